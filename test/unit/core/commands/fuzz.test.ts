import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRegistry } from '../../../../core/commands/definitions.js';
import { execute } from '../../../../core/commands/dispatch.js';
import { helpHandler } from '../../../../core/commands/handlers/help.js';
import { parseCommandText, validateCommand } from '../../../../core/commands/parse.js';
import { commandHelp, commandKey, overviewHelp, subcommandsOf } from '../../../../core/commands/registry.js';
import type { CommandSpec } from '../../../../core/commands/types.js';
import { AppError } from '../../../../core/errors/app-error.js';
import { errorCatalog } from '../../../../core/errors/catalog.js';
import { formatUserFacing, toUserFacing } from '../../../../core/errors/present.js';
import { QUOTED_INPUT_MAX } from '../../../../core/errors/quote-input.js';
import { testConfig, testDeps } from '../../../helpers/deps.js';

/**
 * Any text a user can send goes through parse → validate → authorize and comes back as a command or a coded
 * error: never a thrown exception, never a reply longer than the longest legitimate one. Replay a failure with
 * FUZZ_SEED (and the path fast-check prints); FUZZ_RUNS raises the count locally.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261126);
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const MAX_INPUT = 64 * 1024;

/**
 * Handlers stand in: only parsing, validation and authorization run, nothing reaches Azure, Blob or Kubernetes.
 * Help stays real: it reads nothing but the registry and repeats what it was asked for.
 */
function standInRegistry(): readonly CommandSpec[] {
  return createRegistry().map((s) => ({
    ...s,
    ...(s.handler ? { handler: s.name === 'help' ? helpHandler : async () => ({ text: 'ok' }) } : {}),
    ...(s.plan ? { plan: async () => ['a planned step'] } : {}),
  }));
}

const registry = standInRegistry();

/**
 * The longest legitimate reply is help: the overview (what an unknown command gets) or the help of a command
 * group. An error adds one message line (the bot's words plus a few quoted inputs, each at most 80 characters,
 * 160 UTF-16 units with surrogate pairs), a "did you mean" line and the fix: 1 KB covers them with room to spare.
 */
const LONGEST_HELP = Math.max(
  overviewHelp('/aks ', registry).length,
  ...registry.map((s) => [s, ...subcommandsOf(s.name, registry)].map(commandHelp).join('\n\n').length),
);
const REPLY_BOUND = LONGEST_HELP + 1024;

function overviewLength(): number {
  return overviewHelp('/aks ', registry).length;
}

const words = [...new Set(registry.flatMap((s) => [s.name, s.sub ?? s.name]))];
const flags = ['--env', '--limit', '--next', '--backup', '--reason', '--id', '--dry-run', '--view', '--', '-', '--env=', '--limit=', '-x', '--dry-run=yes'];
const hostile = ['@all', '@here', '#general', '*bold*', '_it_', '~s~', '`code`', '[x](https://evil.example)', '<https://evil.example|x>', ':smile:', '\u202E', '\u200B', '\uD800', '\uDFFF', '\0', '\r\n'];

const token = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...words, ...flags, 'prod', 'staging', '1', '0', '-1', '1e3', '99999999999999999999', '""', "''") },
  { weight: 2, arbitrary: fc.constantFrom(...hostile, '"', "'", '\\', '\\"', "\\'", '=') },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }) },
  { weight: 1, arbitrary: fc.tuple(fc.string({ unit: 'binary', minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 12_000 })).map(([s, n]) => s.repeat(n)) },
);
const separator = fc.constantFrom(' ', ' ', ' ', '  ', '\t', '\n', '', '"', "'", ' "', '" ', '=');
// mostly a real command first, so the arguments of every command are reached, not only "unknown command"
const head = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...registry.map(commandKey)) }, { weight: 1, arbitrary: fc.constant('') });
const commandText = fc
  .tuple(head, fc.array(fc.tuple(separator, token), { maxLength: 40 }))
  .map(([first, parts]) => `${first}${parts.flat().join('')}`.slice(0, MAX_INPUT));

const actor = fc.constantFrom('alice', 'bob', 'carol', 'mallory', 'cli-admin');
const source = fc.constantFrom('chat', 'cli', 'rocketchat-app', 'scheduler');

function expectBoundedAndInert(text: string): void {
  expect(text.length).toBeLessThanOrEqual(REPLY_BOUND);
  // whatever the input, the bot never mentions anyone or posts a markdown link
  expect(text).not.toMatch(/(^|[\s>])@[\p{L}\p{N}._-]/u);
  expect(text).not.toMatch(/\]\(/);
  // what it repeats is quoted on the message line, each quote bounded
  for (const m of (text.split('\n', 1)[0] ?? '').matchAll(/"([^"]*)"/g)) expect(Array.from(m[1] ?? '').length).toBeLessThanOrEqual(QUOTED_INPUT_MAX);
}

describe(`fuzz: hostile command text (seed ${SEED}, ${RUNS} runs)`, () => {
  it('the bound is relative to help, the longest legitimate reply', () => {
    expect(LONGEST_HELP).toBeGreaterThanOrEqual(overviewLength());
    expect(REPLY_BOUND).toBeLessThan(8 * 1024);
  });

  it('parseCommandText gives a command or throws a coded AppError, with a bounded message', () => {
    const config = testConfig();
    fc.assert(
      fc.property(commandText, (text) => {
        let caught: unknown;
        try {
          const parsed = parseCommandText(text, registry);
          expect(registry).toContain(parsed.spec);
          for (const v of Object.values(parsed.raw)) expect(['string', 'boolean']).toContain(typeof v);
          validateCommand(parsed, config);
        } catch (err) {
          caught = err;
        }
        if (caught === undefined) return;
        expect(caught).toBeInstanceOf(AppError);
        expect(Object.keys(errorCatalog)).toContain((caught as AppError).code);
        expectBoundedAndInert(formatUserFacing(toUserFacing(caught)));
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('execute answers every text with a reply or a coded error, never an internal one, bounded', async () => {
    const deps = testDeps({ registry });
    await fc.assert(
      fc.asyncProperty(commandText, actor, source, async (text, who, from) => {
        const reply = await execute(text, { actor: who, source: from }, deps);
        if (!reply.ok) {
          expect(reply.code).toBeDefined();
          expect(Object.keys(errorCatalog)).toContain(reply.code);
          // AKS_INTERNAL is what an exception nobody expected becomes
          expect(reply.code).not.toBe('AKS_INTERNAL');
        }
        expectBoundedAndInert(reply.text);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('execute answers word lists (the CLI and the App) the same way', async () => {
    const deps = testDeps({ registry });
    await fc.assert(
      fc.asyncProperty(fc.tuple(head, fc.array(token, { maxLength: 12 })).map(([first, rest]) => [...first.split(' ').filter(Boolean), ...rest]), actor, async (argv, who) => {
        const reply = await execute(argv, { actor: who, source: 'cli' }, deps);
        if (!reply.ok) expect(reply.code).not.toBe('AKS_INTERNAL');
        expectBoundedAndInert(reply.text);
      }),
      { seed: SEED, numRuns: Math.ceil(RUNS / 3) },
    );
  });
});
