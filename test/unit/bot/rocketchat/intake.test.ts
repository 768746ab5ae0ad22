import { describe, expect, it } from 'vitest';
import { extractCommand } from '../../../../bot/rocketchat/intake.js';
import { formatDuration, progressBar, renderProgress } from '../../../../bot/chat/progress.js';
import { MessageTracker } from '../../../../bot/rocketchat/stream.js';
import { execute } from '../../../../core/commands/dispatch.js';
import type { RunRecord, StepRecord } from '../../../../core/store/types.js';
import { testDeps } from '../../../helpers/deps.js';

describe('extractCommand', () => {
  it.each([
    ['aks backup run --env prod', 'backup run --env prod'],
    ['AKS runs', 'runs'],
    ['/aks help', 'help'],
    ['@aks-bot runs 3', 'runs 3'],
    ['@aks-bot: runs', 'runs'],
    ['aks', 'help'],
    ['aks runs\nstack trace pasted below --env x', 'runs'],
    ['hello aks runs', undefined],
    ['aksbackup', undefined],
    ['', undefined],
    ['@someone-else runs', undefined],
  ])('%j → %j', (text, expected) => {
    expect(extractCommand(text, 'aks', 'aks-bot')).toBe(expected);
  });
});

/** A small deterministic PRNG (mulberry32), so a failing fuzz case can be reproduced. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HOSTILE = [
  'teardown --env prod; rm -rf /',
  'teardown --env "prod',
  "teardown --env 'prod",
  'teardown --env $(whoami)',
  'teardown --env ../../etc/passwd',
  'runs --limit 1e309',
  'runs --limit -1',
  'runs --limit 0x10',
  'runs --limit',
  'runs 1 2 3',
  'approve --run-id 1',
  'approve 1.5',
  'approve -- -1',
  'deny 1 --reason',
  '--help',
  '-',
  '"""',
  '\u0000\u0001\u0002',
  'teardown --env prod --dry-run --dry-run',
  'teardown --env=prod --env=staging',
  'backup verify --backup "a b"',
  'restore mongo --env prod --backup ../x',
  '\u202eteardown',
  'help '.repeat(300),
  'x'.repeat(5000),
];

describe('fuzzing the command intake with random and hostile text', () => {
  it('never throws, always answers with a coded error or help, and never starts or queues a run', async () => {
    const deps = testDeps();
    const rand = prng(20261126);
    const alphabet = 'abcdefghijklmnopqrstuvwxyz -=\'"\\$;|&<>()[]{}*?!~`#%^.,/\n\t\u00e9\u{1F600}0123456789';
    const words = ['teardown', 'recreate', 'restore', 'backup', 'run', 'approve', 'deny', 'runs', '--env', 'prod', '--dry-run', '--reason', '--limit', 'mongo'];
    const inputs = [...HOSTILE];
    for (let i = 0; i < 400; i++) {
      const n = Math.floor(rand() * 8);
      const parts: string[] = [];
      for (let j = 0; j < n; j++) {
        if (rand() < 0.6) parts.push(words[Math.floor(rand() * words.length)]!);
        else parts.push([...Array(1 + Math.floor(rand() * 8))].map(() => alphabet[Math.floor(rand() * alphabet.length)]).join(''));
      }
      inputs.push(parts.join(' '));
    }
    for (const text of inputs) {
      const reply = await execute(text, { actor: 'mallory', source: 'chat' }, deps);
      expect(typeof reply.text).toBe('string');
      expect(reply.text).not.toMatch(/at .*\.[tj]s:\d+/);
      if (!reply.ok) expect(reply.code, text).toMatch(/^AKS_[A-Z_]+$/);
    }
    const asAdmin = await Promise.all(HOSTILE.map((t) => execute(t, { actor: 'alice', source: 'chat' }, deps)));
    for (const r of asAdmin) if (!r.ok) expect(r.code).toMatch(/^AKS_/);
    expect(await deps.store.listRuns()).toEqual([]);
    expect(await deps.store.listApprovals()).toEqual([]);
  });
});

describe('progress message', () => {
  const t = (s: number) => new Date(Date.UTC(2026, 10, 26, 12, 0, s));
  const run = (over: Partial<RunRecord> = {}): RunRecord => ({
    id: 7, environment: 'prod', command: 'teardown', args: {}, source: 'chat', requestedBy: 'alice', status: 'running', dryRun: false,
    createdAt: t(0), startedAt: t(0), finishedAt: null, error: null, ...over,
  });
  const step = (seq: number, name: string, status: StepRecord['status'], s: number): StepRecord => ({ runId: 7, seq, step: name, status, detail: null, at: t(s) });

  it.each([
    [0, 4, '[░░░░░░░░░░] 0/4'],
    [2, 4, '[█████░░░░░] 2/4'],
    [4, 4, '[██████████] 4/4'],
    [3, 0, '[██████████] 3/3'],
  ])('bar %i of %i', (done, total, expected) => {
    expect(progressBar(done, total)).toBe(expected);
  });

  it.each([
    [12_000, '12s'],
    [187_000, '3m 07s'],
    [3_720_000, '1h 02m'],
  ])('duration %i ms → %s', (ms, s) => {
    expect(formatDuration(ms)).toBe(s);
  });

  it('shows done, running and failed steps with durations, and what to do on failure', () => {
    const steps = [step(1, 'backup', 'started', 0), step(2, 'backup', 'succeeded', 65), step(3, 'drain', 'started', 65), step(4, 'drain', 'failed', 70)];
    const running = renderProgress(run(), steps.slice(0, 3), t(80), 3);
    expect(running.split('\n')).toEqual(['Run 7: teardown on prod — running, 1m 20s', '[███░░░░░░░] 1/3', '✓ backup (1m 05s)', '… drain']);
    const failed = renderProgress(run({ status: 'failed', finishedAt: t(70), error: { code: 'AKS_EXEC_FAILED', message: 'helm failed' } }), steps, t(90), 3);
    expect(failed).toContain('✗ drain (5s)');
    expect(failed).toContain('Failed: helm failed [AKS_EXEC_FAILED].');
    expect(failed).toContain('What to do: read "runs 7"');
  });
});

describe('MessageTracker', () => {
  const msg = (over: Record<string, unknown> = {}) => ({ _id: 'm1', rid: 'r', msg: 'aks runs', u: { _id: 'u', username: 'bob' }, ...over });

  it('a message seen twice is one message; reactions are diffs; edits are not commands', () => {
    const tr = new MessageTracker();
    expect(tr.observe(msg()).map((e) => e.kind)).toEqual(['message']);
    expect(tr.observe(msg())).toEqual([]);
    const r = tr.observe(msg({ reactions: { ':x:': { usernames: ['a', 'b'] } } }));
    expect(r.map((e) => (e.kind === 'reaction' ? `${e.added}${e.emoji}${e.username}` : e.kind))).toEqual(['true:x:a', 'true:x:b']);
    const back = tr.observe(msg({ reactions: { ':x:': { usernames: ['b'] } }, editedAt: new Date() }));
    expect(back.map((e) => (e.kind === 'reaction' ? `${e.added}${e.emoji}${e.username}` : e.kind))).toEqual(['false:x:a']);
    expect(tr.observe(msg({ _id: 'm2', editedAt: new Date() }))).toEqual([]);
    expect(tr.observe(msg({ _id: 'm3', t: 'uj' }))).toEqual([]);
  });

  it('forgets the oldest messages beyond its capacity', () => {
    const tr = new MessageTracker(2);
    tr.observe(msg({ _id: 'a' }));
    tr.observe(msg({ _id: 'b' }));
    tr.observe(msg({ _id: 'c' }));
    expect(tr.observe(msg({ _id: 'c' }))).toEqual([]);
    expect(tr.observe(msg({ _id: 'a' })).map((e) => e.kind)).toEqual(['message']);
  });
});
