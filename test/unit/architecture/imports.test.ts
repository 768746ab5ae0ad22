import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { cruise, type ICruiseResult, type IConfiguration } from 'dependency-cruiser';
import { afterAll, describe, expect, it } from 'vitest';

// The import rules of .dependency-cruiser.cjs are the architecture written down: bot/ → scheduler/ → core/, no
// cycles, the engine and the clients know no lifecycle module, the Azure SDKs only behind core/clients.
const config = createRequire(import.meta.url)('../../../.dependency-cruiser.cjs') as IConfiguration;

async function violations(dirs: string[], baseDir?: string): Promise<string[]> {
  const { tsConfig: _ts, ...options } = config.options ?? {};
  const result = await cruise(dirs, {
    ...options,
    ...(baseDir ? { baseDir } : { tsConfig: { fileName: 'tsconfig.json' } }),
    validate: true,
    ruleSet: { forbidden: config.forbidden ?? [] },
    outputType: 'json',
  });
  const out = (typeof result.output === 'string' ? JSON.parse(result.output) : result.output) as ICruiseResult;
  return out.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}${v.cycle ? ` (${v.cycle.map((c) => c.name).join(' → ')})` : ''}`);
}

describe('import rules', () => {
  it('the code obeys every rule', async () => {
    expect(await violations(['bot', 'core', 'scheduler'])).toEqual([]);
  }, 120_000);

  const fixture = mkdtempSync(join(tmpdir(), 'aks-imports-'));
  afterAll(() => rmSync(fixture, { recursive: true, force: true }));
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(fixture, path)), { recursive: true });
    writeFileSync(join(fixture, path), text);
  };

  it('catches an upward import, a cycle and an engine that reaches into a lifecycle module', async () => {
    write('bot/adapter.ts', "export const adapter = 1;\n");
    write('core/up.ts', "import { adapter } from '../bot/adapter';\nexport const up = adapter;\n");
    write('scheduler/job.ts', "import { adapter } from '../bot/adapter';\nexport const job = adapter;\n");
    write('core/a.ts', "import { b } from './b';\nexport const a = () => b;\n");
    write('core/b.ts', "import { a } from './a';\nexport const b = () => a;\n");
    write('core/backup/run.ts', "export const backup = 1;\n");
    write('core/engine/runner.ts', "import { backup } from '../backup/run';\nexport const runner = backup;\n");
    const found = await violations(['bot', 'core', 'scheduler'], fixture);
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^core-imports-no-adapter: core\/up\.ts → bot\/adapter\.ts/),
        expect.stringMatching(/^scheduler-imports-core-only: scheduler\/job\.ts → bot\/adapter\.ts/),
        expect.stringMatching(/^no-cycles: core\/(a|b)\.ts → core\/(a|b)\.ts/),
        expect.stringMatching(/^engine-and-clients-know-no-lifecycle-module: core\/engine\/runner\.ts → core\/backup\/run\.ts/),
      ]),
    );
  }, 120_000);
});
