import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Product text — replies, errors, docs, comments — is read by people who have only the repository: it never names a
 * tracker item ("issue #4", an `ISSUE_…` constant) or a file outside the repository (`../shared/…`, `DOMAIN.md`).
 * A comment that needs a domain fact cites docs/ of the repository instead. The error catalog is core/errors/catalog.ts
 * and docs/errors.md, both scanned here.
 */
const ROOT = join(import.meta.dirname, '..', '..', '..');
const PLACES = ['bot', 'core', 'scheduler', 'docs', 'README.md'];
const SKIP_DIRS = new Set(['node_modules', 'dist', 'coverage']);
const TEXT = /\.(ts|js|mjs|cjs|md|ya?ml|json|html|txt|hbs)$/;

/** What must not appear, with the reason printed beside a finding. */
const FORBIDDEN: readonly { re: RegExp; what: string }[] = [
  { re: /\bissues? #\d+/i, what: 'a tracker item' },
  { re: /\bISSUE_/, what: 'a constant named after a tracker item' },
  { re: /\.\.\/shared\//, what: 'a path outside the repository' },
  { re: /\bDOMAIN\.md\b/, what: 'a notes file outside the repository' },
];

function* files(path: string): Generator<string> {
  let entries;
  try {
    entries = readdirSync(path, { withFileTypes: true });
  } catch {
    if (TEXT.test(path)) yield path;
    return;
  }
  for (const e of entries) {
    if (SKIP_DIRS.has(e.name)) continue;
    if (e.isDirectory()) yield* files(join(path, e.name));
    else if (TEXT.test(e.name)) yield join(path, e.name);
  }
}

/** Every forbidden reference in `text`, as "<file>:<line>: <what>: <the line>". */
function trackerReferences(text: string, file: string): string[] {
  const out: string[] = [];
  text.split('\n').forEach((line, i) => {
    for (const f of FORBIDDEN) if (f.re.test(line)) out.push(`${file}:${i + 1}: ${f.what}: ${line.trim().slice(0, 160)}`);
  });
  return out;
}

describe('product text names no tracker item and no path outside the repository', () => {
  it.each([
    ['issue #4', 'answers "not available" (issue #4)', 1],
    ['Issues #12', '// see Issues #12', 1],
    ['an ISSUE_ constant', 'const ISSUE_LIFECYCLE = "x";', 1],
    ['../shared/', 'see ../shared/contracts/x.yaml', 1],
    ['DOMAIN.md', '(DOMAIN.md §6)', 1],
    ['an upstream tracker named without a reference mark', "Known upstream (FerretDB's tracker, 4638).", 0],
    ['a run number', 'queued as run #4', 0],
    ['the repository docs', 'see docs/sandbox-ferretdb.md', 0],
  ])('the check itself: %s', (_name, text, n) => {
    expect(trackerReferences(text, 'sample')).toHaveLength(n);
  });

  it('in bot/, core/, scheduler/, docs/ and README.md', () => {
    const scanned: string[] = [];
    const found: string[] = [];
    for (const place of PLACES) {
      for (const file of files(join(ROOT, place))) {
        scanned.push(file);
        found.push(...trackerReferences(readFileSync(file, 'utf8'), relative(ROOT, file)));
      }
    }
    // the scan reaches the catalog and its docs, so an empty result means something
    expect(scanned.map((f) => relative(ROOT, f))).toEqual(expect.arrayContaining(['README.md', join('core', 'errors', 'catalog.ts'), join('docs', 'errors.md')]));
    expect(found).toEqual([]);
  });
});
