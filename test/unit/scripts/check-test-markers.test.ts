import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scan, unexplainedMarkers } from '../../../scripts/check-test-markers.js';

/** The samples are strings, so this file itself holds no marker for the checker to find. */
const flagged = (text: string) => unexplainedMarkers(text).map((m) => `${m.line}:${m.marker}`);

describe('the focused/skipped test checker', () => {
  it.each([
    ['it.only', "it.only('x', () => {});", ['1:only']],
    ['describe.skip', "describe.skip('x', () => {});", ['1:skip']],
    ['test.todo', "test.todo('later');", ['1:todo']],
    ['it.skipIf', "it.skipIf(!process.env.X)('x', () => {});", ['1:skipIf']],
    ['describe.runIf', 'describe.runIf(ok)(\'x\', () => {});', ['1:runIf']],
    ['a chained modifier', "it.concurrent.only('x', () => {});", ['1:only']],
    ['a context skip', "it('x', (ctx) => { ctx.skip(); });", ['1:skip']],
    ['an options object', "it('x', { skip: true }, () => {});", ['1:skip']],
    ['a space before the parenthesis', "it.only ('x', () => {});", ['1:only']],
    ['a URL in the name is not a comment', "it.skip('reads http://example.org', () => {});", ['1:skip']],
    ['a comment two lines above is too far', "// flaky\n\nit.skip('x', () => {});", ['3:skip']],
    ['a plain test', "it('x', () => {});", []],
    ['a reason on the same line', "it.skip('x', () => {}); // needs the shared contracts folder", []],
    ['a reason on the line before', "// FerretDB has no oplog\nit.skipIf(noOplog)('x', () => {});", []],
    ['a block comment before', "/* no network here */\ndescribe.skip('x', () => {});", []],
    ['the word in a string', "it('documents it.only( and .skip(', () => {});", []],
    ['the word in a comment', '// never use it.only( here', []],
  ])('%s', (_name, text, expected) => {
    expect(flagged(text)).toEqual(expected);
  });

  it('scans folders recursively and names file and line', () => {
    const root = mkdtempSync(join(tmpdir(), 'markers-'));
    try {
      mkdirSync(join(root, 'test', 'deep'), { recursive: true });
      mkdirSync(join(root, 'test', 'node_modules'), { recursive: true });
      writeFileSync(join(root, 'test', 'deep', 'a.test.ts'), "import { it } from 'vitest';\nit.only('x', () => {});\n");
      writeFileSync(join(root, 'test', 'node_modules', 'b.test.ts'), "it.only('x', () => {});\n");
      writeFileSync(join(root, 'test', 'c.test.ts'), "// reason\nit.skip('x', () => {});\n");
      expect(scan(root, ['test'])).toEqual([{ file: join('test', 'deep', 'a.test.ts'), line: 2, marker: 'only', text: "it.only('x', () => {});" }]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('finds nothing unexplained in this repository', () => {
    expect(scan(join(import.meta.dirname, '..', '..', '..'))).toEqual([]);
  });
});
