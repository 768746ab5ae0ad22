import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { anApproval, aRun, at, fakeClock, fileStore, memoryStore, T0, tempDir } from './builders.js';

const MINUTE = 60_000;

async function pendingApproval(overrides: Parameters<typeof anApproval>[1] = {}) {
  const { store, clock } = memoryStore();
  const run = await store.createRun(aRun({ command: 'teardown', status: 'awaiting-approval' }));
  const approval = await store.createApproval(anApproval(run.id, { expiresAt: at(15 * MINUTE), ...overrides }));
  return { store, clock, run, approval };
}

describe('approvals', () => {
  it('round-trips a new approval as pending', async () => {
    const { store, run, approval } = await pendingApproval();

    expect(approval).toEqual({
      id: 1,
      runId: run.id,
      environment: 'prod',
      requestedBy: 'alice',
      plan: 'teardown prod: uninstall 3 releases, destroy cluster layer',
      backupSetId: 'bs-2030-01-01',
      createdAt: T0,
      expiresAt: at(15 * MINUTE),
      status: 'pending',
      decidedBy: null,
      decidedAt: null,
      reason: null,
    });
    expect(await store.getApproval(approval.id)).toEqual(approval);
    expect(await store.getApproval(99)).toBeUndefined();
  });

  it('stores a missing backup set as null', async () => {
    const { approval } = await pendingApproval({ backupSetId: undefined });
    expect(approval.backupSetId).toBeNull();
  });

  it.each(['approved', 'denied'] as const)('records who %s it, when and why', async (status) => {
    const { store, clock, approval } = await pendingApproval();
    clock.advance(MINUTE);

    expect(await store.decideApproval({ id: approval.id, status, decidedBy: 'bob', reason: 'looks right' })).toBe(true);
    expect(await store.getApproval(approval.id)).toMatchObject({
      status,
      decidedBy: 'bob',
      decidedAt: at(MINUTE),
      reason: 'looks right',
    });
  });

  it('lets only the first decision through', async () => {
    const { store, approval } = await pendingApproval();

    expect(await store.decideApproval({ id: approval.id, status: 'approved', decidedBy: 'bob' })).toBe(true);
    expect(await store.decideApproval({ id: approval.id, status: 'denied', decidedBy: 'carol' })).toBe(false);
    expect(await store.getApproval(approval.id)).toMatchObject({ status: 'approved', decidedBy: 'bob', reason: null });
  });

  it('lets exactly one of two connections deciding at once win', async () => {
    const path = join(tempDir(), 'state.db');
    const clock = fakeClock();
    const bot = fileStore(path, clock);
    const webConsole = fileStore(path, clock);
    const run = await bot.createRun(aRun({ command: 'teardown', status: 'awaiting-approval' }));
    const approval = await bot.createApproval(anApproval(run.id));

    const results = await Promise.all([
      bot.decideApproval({ id: approval.id, status: 'approved', decidedBy: 'bob' }),
      webConsole.decideApproval({ id: approval.id, status: 'denied', decidedBy: 'carol' }),
    ]);
    expect(results).toEqual([true, false]);
    expect((await webConsole.getApproval(approval.id))?.decidedBy).toBe('bob');
  });

  it.each([
    { name: 'one millisecond before expiry', offset: 15 * MINUTE - 1, changed: true },
    { name: 'at expiry', offset: 15 * MINUTE, changed: false },
    { name: 'after expiry', offset: 16 * MINUTE, changed: false },
  ])('approving $name changes it: $changed', async ({ offset, changed }) => {
    const { store, clock, approval } = await pendingApproval();
    clock.advance(offset);

    expect(await store.decideApproval({ id: approval.id, status: 'approved', decidedBy: 'bob' })).toBe(changed);
    expect((await store.getApproval(approval.id))?.status).toBe(changed ? 'approved' : 'pending');
  });

  it('judges expiry by an explicit now when given one', async () => {
    const { store, approval } = await pendingApproval();
    const late = { id: approval.id, status: 'approved', decidedBy: 'bob', now: at(20 * MINUTE) } as const;

    expect(await store.decideApproval(late)).toBe(false);
    expect(await store.decideApproval({ ...late, now: at(MINUTE) })).toBe(true);
    expect((await store.getApproval(approval.id))?.decidedAt).toEqual(at(MINUTE));
  });

  it('does not decide an approval that does not exist', async () => {
    const { store } = memoryStore();
    expect(await store.decideApproval({ id: 5, status: 'approved', decidedBy: 'bob' })).toBe(false);
  });

  it('expires only pending approvals that are due, once', async () => {
    const { store, run } = await pendingApproval({ expiresAt: at(5 * MINUTE) });
    await store.createApproval(anApproval(run.id, { expiresAt: at(10 * MINUTE) }));
    const decided = await store.createApproval(anApproval(run.id, { expiresAt: at(5 * MINUTE) }));
    await store.decideApproval({ id: decided.id, status: 'denied', decidedBy: 'bob' });

    expect(await store.expireApprovals(at(5 * MINUTE))).toBe(1);
    expect(await store.expireApprovals(at(5 * MINUTE))).toBe(0);
    expect((await store.listApprovals()).map((a) => a.status)).toEqual(['expired', 'pending', 'denied']);
    expect(await store.decideApproval({ id: 1, status: 'approved', decidedBy: 'bob', now: at(0) })).toBe(false);
  });

  it('expires by the injected clock when no time is given', async () => {
    const { store, clock, approval } = await pendingApproval();
    expect(await store.expireApprovals()).toBe(0);
    clock.advance(15 * MINUTE);
    expect(await store.expireApprovals()).toBe(1);
    expect((await store.getApproval(approval.id))?.status).toBe('expired');
  });

  it('lists by run and status', async () => {
    const { store, run } = await pendingApproval();
    const otherRun = await store.createRun(aRun({ command: 'recreate' }));
    await store.createApproval(anApproval(otherRun.id));
    await store.decideApproval({ id: 1, status: 'approved', decidedBy: 'bob' });

    const ids = async (filter: Parameters<typeof store.listApprovals>[0]) =>
      (await store.listApprovals(filter)).map((a) => a.id);
    expect(await ids({})).toEqual([1, 2]);
    expect(await ids({ runId: run.id })).toEqual([1]);
    expect(await ids({ status: 'pending' })).toEqual([2]);
    expect(await ids({ runId: run.id, status: 'pending' })).toEqual([]);
  });

  it('refuses an approval for an unknown run', async () => {
    const { store } = memoryStore();
    await expect(store.createApproval(anApproval(404))).rejects.toThrow(/FOREIGN KEY/);
  });
});
