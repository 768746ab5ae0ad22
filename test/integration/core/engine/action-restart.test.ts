import { afterEach, describe, expect, it } from 'vitest';
import { wireChat, type ChatWiring } from '../../../../bot/rocketchat/wire.js';
import { execute } from '../../../../core/commands/dispatch.js';
import { createRegistry } from '../../../../core/commands/definitions.js';
import type { CommandDeps, CommandSpec } from '../../../../core/commands/types.js';
import { describePlan, runAction, type Action } from '../../../../core/engine/action.js';
import { ApprovedRunPoller } from '../../../../core/engine/approved-poller.js';
import { MAX_STEP_STARTS } from '../../../../core/engine/launcher.js';
import { FakeRocketChat } from '../../../fakes/rocketchat/server.js';
import { testConfig, testDeps } from '../../../helpers/deps.js';
import { CHAT_CONFIG_YAML, until } from '../../bot/chat/builders.js';

// A bot dies between two steps of an approved teardown and another bot process starts: its approved-run poller
// finds the run 'running' without a heartbeat, sees an Action journaled it, and resumes it at the next step. The
// progress message the first process posted is edited in place (its id is in the store), never posted again.

const MIN = 60_000;
const T0 = new Date('2026-11-26T12:00:00Z');

interface Calls {
  backup: number;
  destroy: number;
  check: number;
  /** The first destroy attempt hangs here: that process "dies" inside it. */
  hang: Promise<void>;
}

function teardownAction(calls: Calls): Action<{ environment: string }> {
  return {
    name: 'teardown',
    version: 1,
    plan: async ({ environment }) => [
      {
        name: 'back up',
        touches: [`Blob: backup set of ${environment}`],
        run: async () => (calls.backup++, { backupId: 'b-20261126' }),
      },
      {
        name: 'destroy the cluster layer',
        touches: [`Azure: managed cluster of ${environment} (delete)`],
        run: async (ctx) => {
          calls.destroy++;
          if (calls.destroy === 1) await calls.hang;
          return { after: String(ctx.outputs('back up').backupId) };
        },
      },
      { name: 'check the durable layer', touches: ['Azure: durable resource group (read)'], run: async () => void calls.check++ },
    ],
  };
}

function registry(calls: Calls): CommandSpec[] {
  const action = teardownAction(calls);
  return createRegistry().map((s) =>
    s.name !== 'teardown'
      ? s
      : {
          ...s,
          unavailable: undefined,
          plan: (_args, ctx) => describePlan(action, { environment: ctx.environment! }),
          handler: async (_args, ctx) => {
            const r = await runAction(action, { store: ctx.store, log: ctx.log, runId: ctx.runId!, input: { environment: ctx.environment! }, ...(ctx.progress ? { progress: ctx.progress } : {}) });
            return { text: `Torn down (${r.ran.length} steps now, ${r.skipped.length} done before).` };
          },
        },
  );
}

let rc: FakeRocketChat | undefined;
const chats: ChatWiring[] = [];
afterEach(async () => {
  for (const c of chats.splice(0)) c.adapter.stop();
  await rc?.close();
  if (rc) expect(rc.violations).toEqual([]);
  rc = undefined;
});

async function botProcess(deps: CommandDeps, bot: { user: { _id: string }; token: string }, progressIntervalMs = 20): Promise<ChatWiring> {
  const chat = wireChat(deps, { url: rc!.url, userId: bot.user._id, token: bot.token, rooms: ['ops'], prefix: 'aks', graceMs: 0, progressIntervalMs, backoff: { initialMs: 20, maxMs: 200 } });
  chats.push(chat);
  await chat.adapter.start();
  await chat.ddp.ready();
  return chat;
}

describe('a run interrupted between two steps', () => {
  it('resumes at the next step in a new process and edits the same progress message', async () => {
    rc = new FakeRocketChat();
    await rc.start();
    for (const u of ['alice', 'erin']) rc.addUser(u);
    const roomId = rc.addRoom('ops')._id;
    const bot = rc.addUser('aks-bot', { roles: ['bot'] });
    let die!: (err: Error) => void;
    const calls: Calls = { backup: 0, destroy: 0, check: 0, hang: new Promise((_, reject) => (die = reject)) };
    const base = testDeps({ config: testConfig(CHAT_CONFIG_YAML), now: T0, registry: registry(calls) });
    const first = { ...base, now: () => T0 };
    // the second process starts five minutes later: the first one's heartbeat (3 minutes) has run out
    const second = { ...base, now: () => new Date(T0.getTime() + 5 * MIN) };

    const asked = await execute('teardown --env prod --reason "credit ends"', { actor: 'alice', source: 'cli' }, first);
    const runId = (asked.data as { awaitingApproval: { runId: number } }).awaitingApproval.runId;
    await execute(`approve ${runId}`, { actor: 'erin', source: 'cli' }, first);

    // the first process re-renders only at start: a dead process edits nothing, and its stand-in here must not either
    const a = await botProcess(first, bot, 60 * MIN);
    a.launcher.start(runId, 3);
    const progressPosts = () => rc!.requests.filter((r) => /chat\.(postMessage|sendMessage)$/.test(r.path) && JSON.stringify(r.body).includes(`Run ${runId}:`));
    const progressEdits = () => rc!.requests.filter((r) => r.path.endsWith('chat.update') && JSON.stringify(r.body).includes(`Run ${runId}:`));
    await until(async () => (await base.store.listSteps(runId)).some((s) => s.step === 'destroy the cluster layer' && s.status === 'started'));
    await until(() => progressPosts().length === 1);
    // the first process dies here: its chat goes away, its run stays 'running' with an open step
    a.adapter.stop();
    const editsBefore = progressEdits().length;

    const b = await botProcess(second, bot);
    const poller = new ApprovedRunPoller({ deps: second, launcher: b.launcher, intervalMs: 1_000, graceMs: 0 });
    await poller.poll();
    await b.launcher.idle();

    expect(await base.store.getRun(runId)).toMatchObject({ status: 'succeeded', error: null });
    expect(calls).toMatchObject({ backup: 1, destroy: 2, check: 1 }); // "back up" was not done again
    expect(progressPosts()).toHaveLength(1); // posted once, by the first process
    expect(progressEdits().length).toBeGreaterThan(editsBefore); // the second process edited it
    const messages = rc.inRoom(roomId).filter((m) => m.msg.startsWith(`Run ${runId}:`));
    expect(messages).toHaveLength(1);
    expect(messages[0]!.msg).toContain('teardown on prod — succeeded');
    expect(messages[0]!.msg).toContain('✓ destroy the cluster layer');
    expect(messages[0]!.msg).toContain('✓ check the durable layer');
    expect(messages[0]!.msg).toContain('Torn down (2 steps now, 1 done before).');
    expect(await poller.poll()).toBe(0);

    // the zombie of the first process wakes up: its run is finished and stays so
    die(new Error('the first process is gone'));
    await a.launcher.idle();
    expect(await base.store.getRun(runId)).toMatchObject({ status: 'succeeded' });
  });

  it('a step that was cut off MAX_STEP_STARTS times is not resumed again: the run is marked interrupted', async () => {
    const calls: Calls = { backup: 0, destroy: 0, check: 0, hang: Promise.resolve() };
    const base = testDeps({ config: testConfig(CHAT_CONFIG_YAML), now: T0, registry: registry(calls) });
    const later = { ...base, now: () => new Date(T0.getTime() + 5 * MIN) };
    const run = await base.store.createRun({ environment: 'prod', command: 'teardown', source: 'cli', requestedBy: 'alice', status: 'queued' });
    await base.store.updateRunStatus(run.id, 'running');
    for (let attempt = 1; attempt <= MAX_STEP_STARTS; attempt++) {
      await base.store.appendStep({ runId: run.id, step: 'back up', status: 'started', detail: { action: 'teardown', version: 1, kind: 'start', attempt } });
    }
    rc = new FakeRocketChat();
    await rc.start();
    rc.addRoom('ops');
    const b = await botProcess(later, rc.addUser('aks-bot', { roles: ['bot'] }));
    await new ApprovedRunPoller({ deps: later, launcher: b.launcher, intervalMs: 1_000, graceMs: 0 }).poll();
    await b.launcher.idle();
    expect(await base.store.getRun(run.id)).toMatchObject({ status: 'failed', error: { code: 'AKS_RUN_INTERRUPTED' } });
    expect(calls.backup).toBe(0);
  });
});
