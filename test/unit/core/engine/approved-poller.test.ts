import { describe, expect, it } from 'vitest';
import { ApprovedRunPoller, findApprovedUnstarted } from '../../../../core/engine/approved-poller.js';
import { Delivery } from '../../../../bot/chat/delivery.js';
import { RunLauncher } from '../../../../core/engine/launcher.js';
import { execute } from '../../../../core/commands/dispatch.js';
import type { CommandSpec } from '../../../../core/commands/types.js';
import { movableDeps, specsWithTeardown } from '../../../integration/bot/chat/builders.js';
import { ChatProgressReporter } from '../../../../bot/chat/progress.js';

// The poller that starts runs approved outside this bot ("approve N" from the CLI, another bot process), with
// the in-memory store. Two launchers on one store stand for two bot processes.

const cli = (actor: string) => ({ actor, source: 'cli' }) as const;
type Deps = ReturnType<typeof movableDeps>['deps'];

function setup() {
  const env = movableDeps(new Date('2026-11-26T12:00:00Z'));
  const calls: string[] = [];
  const specs = specsWithTeardown(calls);
  return { ...env, calls, specs };
}

function launcherFor(deps: Deps, specs: readonly CommandSpec[], holder: string, graceMs = 0): RunLauncher {
  const withSpecs = { ...deps, registry: specs };
  return new RunLauncher({ deps: withSpecs, reporter: new ChatProgressReporter(new Delivery(undefined, withSpecs), deps.store, { roomId: '' }, deps.now), graceMs, progressIntervalMs: 1_000, holder });
}

async function requested(deps: Deps, specs: readonly CommandSpec[]): Promise<number> {
  const reply = await execute('teardown --env prod --reason "credit ends"', cli('alice'), { ...deps, registry: specs });
  return (reply.data as { awaitingApproval: { runId: number } }).awaitingApproval.runId;
}

async function approved(deps: Deps, specs: readonly CommandSpec[]): Promise<number> {
  const runId = await requested(deps, specs);
  expect(await execute(`approve ${runId}`, cli('erin'), { ...deps, registry: specs })).toMatchObject({ ok: true });
  return runId;
}

describe('findApprovedUnstarted', () => {
  it.each([
    { name: 'approved and past the grace period', decide: 'approve', waitMs: 10_000, found: true },
    { name: 'approved within the grace period (the ✅ may still be taken back)', decide: 'approve', waitMs: 5_000, found: false },
    { name: 'still awaiting approval', decide: undefined, waitMs: 60_000, found: false },
    { name: 'denied', decide: 'deny', waitMs: 60_000, found: false },
  ])('$name → found: $found', async ({ decide, waitMs, found }) => {
    const { deps, specs, advance } = setup();
    const runId = await requested(deps, specs);
    if (decide) expect(await execute(`${decide} ${runId}`, cli('erin'), { ...deps, registry: specs })).toMatchObject({ ok: true });
    advance(waitMs);
    const runs = await findApprovedUnstarted(deps, 10_000);
    expect(runs).toEqual(found ? [{ runId, plannedSteps: 2 }] : []);
  });

  it('ignores queued runs that never needed an approval', async () => {
    const { deps } = setup();
    await deps.store.createRun({ environment: 'prod', command: 'backup run', source: 'cli', requestedBy: 'bob' });
    expect(await findApprovedUnstarted(deps, 0)).toEqual([]);
  });
});

describe('ApprovedRunPoller', () => {
  it('starts a run approved from the CLI exactly once, however often it polls', async () => {
    const { deps, specs, calls } = setup();
    const runId = await approved(deps, specs);
    const launcher = launcherFor(deps, specs, 'bot-a');
    const poller = new ApprovedRunPoller({ deps, launcher, intervalMs: 1_000, graceMs: 0 });
    const handed = await Promise.all([poller.poll(), poller.poll()]);
    await launcher.idle();
    expect(await poller.poll()).toBe(0);
    await launcher.idle();
    expect(handed).toEqual([1, 1]); // concurrent polls share one pass
    expect(calls).toEqual(['teardown prod by alice (credit ends)']);
    expect(await deps.store.getRun(runId)).toMatchObject({ status: 'succeeded', source: 'cli', requestedBy: 'alice' });
  });

  it('two bot processes polling the same store start the run once', async () => {
    const { deps, specs, calls } = setup();
    const runId = await approved(deps, specs);
    const a = launcherFor(deps, specs, 'bot-a');
    const b = launcherFor(deps, specs, 'bot-b');
    const pa = new ApprovedRunPoller({ deps, launcher: a, intervalMs: 1_000, graceMs: 0 });
    const pb = new ApprovedRunPoller({ deps, launcher: b, intervalMs: 1_000, graceMs: 0 });
    await Promise.all([pa.poll(), pb.poll()]);
    await Promise.all([a.idle(), b.idle()]);
    expect(calls).toHaveLength(1);
    expect(await deps.store.getRun(runId)).toMatchObject({ status: 'succeeded' });
    expect(await deps.store.getLease(`run-start:${runId}`)).toBeUndefined(); // released once past 'queued'
  });

  it('a poll racing the launch chat started (the ✅ in another bot) does not start it twice', async () => {
    const { deps, specs, calls } = setup();
    const runId = await approved(deps, specs);
    const chatSide = launcherFor(deps, specs, 'bot-a');
    const other = launcherFor(deps, specs, 'bot-b');
    chatSide.start(runId, 2);
    other.start(runId, 2);
    await new ApprovedRunPoller({ deps, launcher: other, intervalMs: 1_000, graceMs: 0 }).poll();
    await Promise.all([chatSide.idle(), other.idle()]);
    expect(calls).toHaveLength(1);
  });

  it('leaves a run in its own grace period alone, and a run claimed elsewhere cannot be cancelled here', async () => {
    const { deps, specs, calls } = setup();
    const runId = await approved(deps, specs);
    const graced = launcherFor(deps, specs, 'bot-a', 60_000);
    graced.schedule(runId, 2);
    expect(await new ApprovedRunPoller({ deps, launcher: graced, intervalMs: 1_000, graceMs: 0 }).poll()).toBe(0);
    // another bot whose poller already claimed it: taking the ✅ back here is too late
    expect(await deps.store.acquireLease(`run-start:${runId}`, 'bot-b', 60_000, deps.now())).toBe(true);
    expect(await graced.cancelIfPending(runId, 'erin')).toBe(false);
    expect(await deps.store.getRun(runId)).toMatchObject({ status: 'queued' });
    graced.stop();
    expect(calls).toEqual([]);
  });

  it('takes over a run whose claimer died once the claim times out', async () => {
    const { deps, specs, calls, advance } = setup();
    const runId = await approved(deps, specs);
    expect(await deps.store.acquireLease(`run-start:${runId}`, 'crashed-bot', 60_000, deps.now())).toBe(true);
    const launcher = launcherFor(deps, specs, 'bot-a');
    const poller = new ApprovedRunPoller({ deps, launcher, intervalMs: 1_000, graceMs: 0 });
    await poller.poll();
    await launcher.idle();
    expect(calls).toEqual([]);
    advance(61_000);
    await poller.poll();
    await launcher.idle();
    expect(calls).toHaveLength(1);
    expect(await deps.store.getRun(runId)).toMatchObject({ status: 'succeeded' });
  });

  it('polls on its interval until stopped', async () => {
    const { deps, specs, calls } = setup();
    await approved(deps, specs);
    const launcher = launcherFor(deps, specs, 'bot-a');
    const poller = new ApprovedRunPoller({ deps, launcher, intervalMs: 20, graceMs: 0 });
    poller.start();
    try {
      for (let i = 0; i < 100 && !calls.length; i++) await new Promise((r) => setTimeout(r, 10));
    } finally {
      await poller.stop();
      await launcher.idle();
    }
    expect(calls).toHaveLength(1);
  });
});
