import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorCatalog } from '../../../../core/errors/catalog.js';
import { renderErrorDocs } from '../../../../core/errors/docs.js';
import { AppError } from '../../../../core/errors/app-error.js';
import { formatUserFacing, toUserFacing } from '../../../../core/errors/present.js';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
}

describe('error catalog', () => {
  const docs = readFileSync('docs/errors.md', 'utf8');
  const documented = [...docs.matchAll(/^\| `(AKS_[A-Z_]+)` \|/gm)].map((m) => m[1]);

  it('docs/errors.md lists exactly the catalog codes (run "npm run docs:errors" after changing the catalog)', () => {
    expect(documented.sort()).toEqual(Object.keys(errorCatalog).sort());
  });

  it('docs/errors.md has the catalog text word for word', () => {
    expect(docs).toBe(renderErrorDocs());
  });

  it('every code used in the source exists in the catalog', () => {
    const used = new Set<string>();
    for (const f of ['bot', 'core', 'scheduler'].flatMap(sourceFiles)) {
      for (const m of readFileSync(f, 'utf8').matchAll(/'(AKS_[A-Z_]+[A-Z])'/g)) used.add(m[1]!);
    }
    const unknown = [...used].filter((c) => !(c in errorCatalog));
    expect(unknown).toEqual([]);
  });

  it.each(Object.entries(errorCatalog))('%s has a message and a fix', (_code, spec) => {
    expect(spec.message).toMatch(/\.$/);
    expect(spec.fix.length).toBeGreaterThan(15);
  });

  it('fills placeholders and shows unknown errors only by reference', () => {
    const e = new AppError('AKS_UNKNOWN_ENVIRONMENT', { environment: 'qa', known: 'prod' });
    expect(e.message).toBe('There is no environment "qa" in the configuration (known: prod).');
    const shown = toUserFacing(new TypeError('Cannot read properties of undefined (reading "x")'));
    expect(shown.code).toBe('AKS_INTERNAL');
    expect(formatUserFacing(shown)).not.toContain('Cannot read properties');
    expect(formatUserFacing(shown)).toMatch(/reference [0-9a-f]{8}/);
  });
});
