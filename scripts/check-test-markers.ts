import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Fails when a test is focused or skipped (`.only`, `.skip`, `.todo`, `.skipIf`, `.runIf`, `{ skip: true }`, a
 * context's `skip()`) without a reason written beside it: a comment on the same line or on the line before. A
 * focused test silently drops the rest of its file from CI; an unexplained skip hides a test that can no longer
 * fail. `npm test` runs this before vitest.
 */

export interface Marker {
  readonly file: string;
  readonly line: number;
  readonly marker: string;
  readonly text: string;
}

/** A marker on a test API: `it.only(`, `describe.skipIf(`, `test.todo(`, `ctx.skip(`, `{ only: true }`. */
const MARKER = /\.(only|skip|todo|skipIf|runIf)\s*\(|\b(only|skip|todo)\s*:\s*true\b/;

/** Without the contents of string literals, so that 'http://…' in a test's name is no comment. */
const code = (line: string): string => line.replace(/'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*"|`(?:\\.|[^`\\])*`/g, "''");
const hasComment = (line: string): boolean => /\/\/|\/\*/.test(code(line));
const isComment = (line: string): boolean => {
  const t = line.trim();
  return t.startsWith('//') || t.startsWith('/*') || t.startsWith('*') || t.endsWith('*/');
};

/** The markers of one file's text that have no comment on their line or the line before. */
export function unexplainedMarkers(text: string, file = '<inline>'): Marker[] {
  const lines = text.split('\n');
  const found: Marker[] = [];
  lines.forEach((line, i) => {
    if (isComment(line)) return;
    const m = MARKER.exec(code(line));
    if (!m) return;
    if (hasComment(line) || (i > 0 && isComment(lines[i - 1]!))) return;
    found.push({ file, line: i + 1, marker: m[1] ?? m[2]!, text: line.trim() });
  });
  return found;
}

const SKIP_DIRS = new Set(['node_modules', 'dist', '.sandbox', 'coverage', '.git']);

function* sourceFiles(dir: string): Generator<string> {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    if (SKIP_DIRS.has(e.name)) continue;
    const path = join(dir, e.name);
    if (e.isDirectory()) yield* sourceFiles(path);
    else if (/\.(ts|js|mjs|cjs)$/.test(e.name)) yield path;
  }
}

/** Every unexplained marker under the given folders of the repository. */
export function scan(root: string, folders: readonly string[] = ['test', 'bot', 'core', 'scheduler', 'bench', 'scripts']): Marker[] {
  const out: Marker[] = [];
  for (const folder of folders) {
    for (const file of sourceFiles(join(root, folder))) out.push(...unexplainedMarkers(readFileSync(file, 'utf8'), relative(root, file)));
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const found = scan(root);
  for (const m of found) console.error(`${m.file}:${m.line}: .${m.marker} without a reason (a comment on this line or the line before): ${m.text}`);
  if (found.length > 0) {
    console.error(`${found.length} focused or skipped test(s) without a reason`);
    process.exit(1);
  }
  console.log('no focused or skipped test without a reason');
}
