import { describe, expect, it } from 'vitest';
import { execute } from '../../../../core/commands/dispatch.js';
import { createRegistry } from '../../../../core/commands/definitions.js';
import { parseCommandText, validateCommand } from '../../../../core/commands/parse.js';
import { AppError } from '../../../../core/errors/app-error.js';
import { QUOTED_INPUT_MAX, quoteInput } from '../../../../core/errors/quote-input.js';
import { testConfig, testDeps } from '../../../helpers/deps.js';

const admin = { actor: 'alice', source: 'chat' } as const;

/** Markup and mentions as Rocket.Chat reads them; none may reach a reply from what the user typed. */
const HOSTILE = '@all @here @bob *bold* _it_ ~strike~ `code` [click](https://evil.example) <https://evil.example|here> #general :smile:';

/**
 * The parts of a reply that repeat the user's input: between the double quotes of its first line, the message
 * (the help below it is the bot's own text).
 */
function quoted(text: string): string[] {
  return [...(text.split('\n', 1)[0] ?? '').matchAll(/"([^"]*)"/g)].map((m) => m[1] ?? '');
}

function expectInert(text: string): void {
  for (const q of quoted(text)) expect(q).not.toMatch(/[@#*_~`[\]<>|:]/);
  expect(text).not.toMatch(/(^|[\s>])@(all|here|bob)\b/m);
  expect(text).not.toContain('[click](');
  expect(text).not.toContain('<https://');
}

describe('quoteInput', () => {
  it('bounds the input to its maximum, the last character an ellipsis', () => {
    const out = quoteInput('x'.repeat(10_000));
    expect(Array.from(out)).toHaveLength(QUOTED_INPUT_MAX);
    expect(out.endsWith('…')).toBe(true);
    expect(quoteInput('prod')).toBe('prod');
  });

  it('makes markup and mentions inert and shows invisible characters', () => {
    const out = quoteInput(HOSTILE, 500);
    expect(out).not.toMatch(/[@#*_~`[\]<>|:"]/);
    expect(out).toContain('＠all');
    expect(quoteInput('a\nb\u202Ec\u200Bd\uD800')).toBe('a\uFFFDb\uFFFDc\uFFFDd\uFFFD');
  });
});

describe('replies that repeat what the user typed', () => {
  it.each([
    ['an unknown environment', `status --env ${'x'.repeat(200)}`, 'AKS_UNKNOWN_ENVIRONMENT'],
    ['an environment name longer than any', `status --env ${'x'.repeat(10_000)}`, 'AKS_INVALID_ARGUMENTS'],
    ['an unknown command', `xyz${'q'.repeat(5000)}`, 'AKS_UNKNOWN_COMMAND'],
    ['an unknown subcommand', `backup ${'q'.repeat(5000)}`, 'AKS_UNKNOWN_COMMAND'],
    ['an unknown command in help', `help ${'z'.repeat(200)}`, 'AKS_UNKNOWN_COMMAND'],
    ['an unknown option', `runs --${'f'.repeat(5000)}`, 'AKS_INVALID_ARGUMENTS'],
    ['a repeated word', `runs 1 ${'word '.repeat(800)}`, 'AKS_INVALID_ARGUMENTS'],
    ['a long value of a checked flag', `backup verify --env prod --backup ${'b'.repeat(5000)}`, 'AKS_INVALID_ARGUMENTS'],
  ])('bounds %s', async (_what, text, code) => {
    const deps = testDeps();
    const reply = await execute(text, admin, deps);
    expect(reply.code).toBe(code);
    // the reply without its help block: the message and the fix, a few hundred characters at most
    const [message] = reply.text.split('\n');
    expect(message!.length).toBeLessThanOrEqual(400);
    for (const q of quoted(reply.text)) expect(Array.from(q).length).toBeLessThanOrEqual(QUOTED_INPUT_MAX);
    const longestLegitimate = Math.max(...deps.registry.map((s) => s.summary.length)) + 4000;
    expect(reply.text.length).toBeLessThan(longestLegitimate);
  });

  it('lists a few unexpected arguments and counts the rest', async () => {
    const reply = await execute(`runs 1 ${'word '.repeat(800)}`, admin, testDeps());
    expect(reply.text).toContain('unexpected arguments "word", "word", "word" and 797 more');
  });

  it.each([
    ['an unknown environment', `status --env "${HOSTILE}"`],
    ['an unknown command', `"${HOSTILE}"`],
    ['an unknown subcommand', `backup "${HOSTILE}"`],
    ['an unknown command in help', `help "${HOSTILE}"`],
    ['an unknown option', `runs "--${HOSTILE}"`],
    ['unexpected arguments', `runs 1 "${HOSTILE}" @all`],
  ])('makes markup and mentions inert in %s', async (_what, text) => {
    const reply = await execute(text, admin, testDeps());
    expect(reply.ok).toBe(false);
    expect(quoted(reply.text).some((q) => q.includes('＠all'))).toBe(true);
    expectInert(reply.text);
  });

  it('quotes a deny reason inertly', async () => {
    // plans stubbed: the prompt needs one, and this test is about the reply to the decision, not about Azure
    const registry = createRegistry().map((s) => (s.plan ? { ...s, plan: async () => ['delete nothing'] } : s));
    const deps = testDeps({ registry });
    const asked = await execute('backup prune --env prod', { actor: 'bob', source: 'chat' }, deps);
    const runId = (asked.data as { awaitingApproval: { runId: number } }).awaitingApproval.runId;
    const reply = await execute(['deny', String(runId), '--reason', '@all see [this](https://evil.example)'], admin, deps);
    expect(reply.ok).toBe(true);
    expect(reply.text).toContain('"＠all see ［this］(https：//evil.example)"');
    expectInert(reply.text.replace(`@${admin.actor}`, ''));
  });
});

describe('numbers', () => {
  const config = testConfig();
  const specs = createRegistry();
  const issues = (text: string): string => {
    try {
      validateCommand(parseCommandText(text, specs), config);
    } catch (err) {
      if (err instanceof AppError) return err.message;
      throw err;
    }
    return 'accepted';
  };

  it.each([
    ['runs --limit 0', '--limit must be between 1 and 200'],
    ['runs --limit 201', '--limit must be between 1 and 200'],
    ['runs --limit 99999999999999999999999', '--limit must be between 1 and 200'],
    ['runs --limit=-5', '--limit must be between 1 and 200'],
    ['runs --limit -5', '--limit needs a value (for a value that starts with "-", write --limit=-…)'],
    ['backup list --env prod --limit 501', '--limit must be between 1 and 500'],
    ['schedule --next 21', '--next must be between 1 and 20'],
    ['approve 0', '<run> must be at least 1'],
    ['runs --limit lots', '--limit is not a number'],
    ['runs --limit ""', '--limit is not a number'],
    ['runs --limit Infinity', '--limit is not a number'],
    ['runs --limit 1.5', '--limit must be a whole number written in digits'],
    ['runs --limit 0x10', '--limit must be a whole number written in digits'],
  ])('%j says %j', (text, expected) => {
    expect(issues(text)).toContain(expected);
  });

  it.each([
    ['runs --limit 7', 7],
    ['runs --limit " 12 "', 12],
    ['runs', 10],
  ])('%j reads %d', (text, limit) => {
    expect(validateCommand(parseCommandText(text, specs), config).args.limit).toBe(limit);
  });
});
