import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { Delivery } from '../../../../bot/chat/delivery.js';
import { RunLauncher } from '../../../../core/engine/launcher.js';
import { renderProgress } from '../../../../bot/chat/progress.js';
import { createRegistry } from '../../../../core/commands/definitions.js';
import type { CommandSpec } from '../../../../core/commands/types.js';
import type { RunRecord, StepRecord } from '../../../../core/store/types.js';
import { testDeps } from '../../../helpers/deps.js';
import { ChatProgressReporter } from '../../../../bot/chat/progress.js';

const commandSpecs = createRegistry();

/** A chat that takes `editMs` per edit and records when each edit started and ended. */
function slowChat(editMs: number) {
  const edits: { text: string; start: number; end: number }[] = [];
  const posts: string[] = [];
  const delivery = {
    post: async (_room: string, text: string) => {
      posts.push(text);
      return { via: 'chat' as const, msgId: 'm1' };
    },
    update: async (_room: string, _msg: string, text: string) => {
      const start = Date.now();
      await sleep(editMs);
      edits.push({ text, start, end: Date.now() });
      return true;
    },
    mail: async () => true,
  } as unknown as Delivery;
  return { delivery, edits, posts };
}

/** `backup run` replaced by a handler that reports progress for `ms` (with a secret in one line) and answers. */
function specsReporting(ms: number, secret: string): CommandSpec[] {
  return commandSpecs.map((s) =>
    s.name === 'backup' && s.sub === 'run'
      ? {
          ...s,
          handler: async (_args, ctx) => {
            await ctx.store.appendStep({ runId: ctx.runId!, step: 'dump', status: 'started' });
            const end = Date.now() + ms;
            for (let mb = 1; Date.now() < end; mb++) {
              ctx.progress?.report(ctx.runId!, `dump: ${mb}.0 MB, 1.0 MB/s, rocketchat.users ${mb === 1 ? secret : ''}`.trim());
              await sleep(10);
            }
            await ctx.store.appendStep({ runId: ctx.runId!, step: 'dump', status: 'succeeded' });
            return { text: 'Backup b1 of prod is complete: 3 collections.' };
          },
        }
      : s,
  );
}

describe('the launcher shows a run\'s live progress in its message', () => {
  it('edits with the latest progress line, one edit at a time, and ends with the command\'s summary', async () => {
    const d = testDeps();
    const deps = { ...d, now: () => new Date() };
    const secret = 'hunter2-secret-value';
    deps.redactor.add(secret);
    const chat = slowChat(80);
    const launcher = new RunLauncher({ deps: { ...deps, registry: specsReporting(600, secret) }, reporter: new ChatProgressReporter(chat.delivery, deps.store, { roomId: 'ops' }, deps.now), graceMs: 0, progressIntervalMs: 10 });
    const run = await deps.store.createRun({ environment: 'prod', command: 'backup run', source: 'chat', requestedBy: 'bob', status: 'queued' });
    launcher.backgroundRuns('#ops').start(run.id, 2);
    await launcher.idle();

    expect(chat.posts).toHaveLength(1);
    const live = chat.edits.filter((e) => e.text.includes('dump: '));
    expect(live.length).toBeGreaterThan(1);
    expect(live.at(-1)!.text).toMatch(/— running[\s\S]*… dump\n {3}dump: \d+\.0 MB, 1\.0 MB\/s, rocketchat\.users$/);
    // edits never overlap: each starts after the previous one ended, however often the timer fires
    for (let i = 1; i < chat.edits.length; i++) expect(chat.edits[i]!.start).toBeGreaterThanOrEqual(chat.edits[i - 1]!.end);
    // 600 ms of work, 80 ms per edit: far fewer edits than the 60 timer ticks
    expect(chat.edits.length).toBeLessThanOrEqual(10);
    const final = chat.edits.at(-1)!.text;
    expect(final).toContain('— succeeded');
    expect(final).toContain('✓ dump');
    expect(final).toContain('Backup b1 of prod is complete: 3 collections.');
    expect(final).not.toContain('MB/s');
    expect(JSON.stringify(chat)).not.toContain(secret);
  });
});

describe('renderProgress extras', () => {
  const at = (s: number) => new Date(Date.UTC(2026, 10, 27, 3, 0, s));
  const run = (status: RunRecord['status']): RunRecord => ({
    id: 42, environment: 'prod', command: 'backup run', args: {}, source: 'chat', requestedBy: 'bob', status, dryRun: false,
    createdAt: at(0), startedAt: at(0), finishedAt: status === 'running' ? null : at(30), error: null,
  });
  const steps: StepRecord[] = [{ runId: 42, seq: 1, step: 'dump rocketchat, encrypt, upload to Blob', status: 'started', detail: null, at: at(1) }];

  it.each([
    ['running shows the live line under the steps', run('running'), true, false],
    ['succeeded shows the summary and no live line', run('succeeded'), false, true],
    ['failed shows neither', run('failed'), false, false],
  ] as const)('%s', (_name, r, live, summary) => {
    const text = renderProgress(r, steps, at(20), 2, { latest: 'dump: 412.0 MB, 38.0 MB/s, rocketchat.rocketchat_message', summary: 'Backup b1 of prod is complete.' });
    expect(text.includes('   dump: 412.0 MB, 38.0 MB/s, rocketchat.rocketchat_message')).toBe(live);
    expect(text.includes('Backup b1 of prod is complete.')).toBe(summary);
  });
});
