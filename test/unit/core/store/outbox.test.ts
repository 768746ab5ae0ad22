import { describe, expect, it } from 'vitest';
import { NOTIFICATION_CHANNELS } from '../../../../core/store/types.js';
import { aNotification, at, memoryStore, T0 } from './builders.js';

const CLAIM_TIMEOUT = 5 * 60_000;

describe('notification outbox', () => {
  it('round-trips a new notification as pending and due now', async () => {
    const { store } = memoryStore();

    const { notification, created } = await store.enqueueNotification(aNotification());

    expect(created).toBe(true);
    expect(notification).toEqual({
      id: 1,
      channel: 'email',
      recipient: 'ops@example.org',
      subject: 'Teardown of prod finished',
      body: 'Run 42 succeeded.',
      dedupeKey: 'run-42-finished',
      status: 'pending',
      attempts: 0,
      nextAttemptAt: T0,
      lastError: null,
      createdAt: T0,
      sentAt: null,
    });
    expect(await store.getNotification(1)).toEqual(notification);
    expect(await store.getNotification(2)).toBeUndefined();
  });

  it.each(NOTIFICATION_CHANNELS)('accepts channel %s, with or without a subject', async (channel) => {
    const { store } = memoryStore();
    const { notification } = await store.enqueueNotification(aNotification({ channel, subject: undefined }));
    expect(notification).toMatchObject({ channel, subject: null });
  });

  it('treats a second enqueue with the same dedupe key as a no-op', async () => {
    const { store, clock } = memoryStore();
    const first = await store.enqueueNotification(aNotification());
    clock.advance(1_000);

    const again = await store.enqueueNotification(aNotification({ body: 'a retried step says it again' }));

    expect(again).toEqual({ notification: first.notification, created: false });
    expect(await store.claimDueNotifications(at(1_000), 10)).toHaveLength(1);
  });

  it('claims only due notifications, oldest first, up to the limit', async () => {
    const { store, clock } = memoryStore();
    await store.enqueueNotification(aNotification({ dedupeKey: 'a' }));
    clock.advance(1_000);
    await store.enqueueNotification(aNotification({ dedupeKey: 'b' }));
    await store.enqueueNotification(aNotification({ dedupeKey: 'later', notBefore: at(60_000) }));
    await store.enqueueNotification(aNotification({ dedupeKey: 'c' }));

    const firstBatch = await store.claimDueNotifications(at(1_000), 2);
    const secondBatch = await store.claimDueNotifications(at(1_000), 10);

    expect(firstBatch.map((n) => n.dedupeKey)).toEqual(['a', 'b']);
    expect(firstBatch.map((n) => n.attempts)).toEqual([1, 1]);
    expect(secondBatch.map((n) => n.dedupeKey)).toEqual(['c']);
    expect((await store.claimDueNotifications(at(60_000), 10)).map((n) => n.dedupeKey)).toEqual(['later']);
  });

  it('hides a claimed notification until the claim times out, then offers it again', async () => {
    const { store } = memoryStore();
    await store.enqueueNotification(aNotification());
    await store.claimDueNotifications(T0, 10);

    expect(await store.claimDueNotifications(at(CLAIM_TIMEOUT - 1), 10)).toEqual([]);
    const reclaimed = await store.claimDueNotifications(at(CLAIM_TIMEOUT), 10);
    expect(reclaimed).toHaveLength(1);
    expect(reclaimed[0]?.attempts).toBe(2);
  });

  it('marks a sent notification once and never offers it again', async () => {
    const { store, clock } = memoryStore();
    const { notification } = await store.enqueueNotification(aNotification());
    await store.claimDueNotifications(T0, 10);
    clock.advance(2_000);

    expect(await store.markNotificationSent(notification.id)).toBe(true);
    expect(await store.markNotificationSent(notification.id)).toBe(false);
    expect(await store.getNotification(notification.id)).toMatchObject({ status: 'sent', sentAt: at(2_000) });
    expect(await store.claimDueNotifications(at(CLAIM_TIMEOUT * 10), 10)).toEqual([]);
  });

  it('retries a failed send at the given time and counts each attempt', async () => {
    const { store } = memoryStore();
    const { notification } = await store.enqueueNotification(aNotification());
    await store.claimDueNotifications(T0, 10);

    expect(await store.markNotificationFailed(notification.id, 'SMTP 451 try later', at(30_000))).toBe(true);
    expect(await store.getNotification(notification.id)).toMatchObject({
      status: 'pending',
      attempts: 1,
      lastError: 'SMTP 451 try later',
      nextAttemptAt: at(30_000),
    });
    expect(await store.claimDueNotifications(at(29_999), 10)).toEqual([]);
    const retry = await store.claimDueNotifications(at(30_000), 10);
    expect(retry.map((n) => n.attempts)).toEqual([2]);

    expect(await store.markNotificationSent(notification.id, at(31_000))).toBe(true);
    expect(await store.getNotification(notification.id)).toMatchObject({
      status: 'sent',
      attempts: 2,
      sentAt: at(31_000),
      lastError: 'SMTP 451 try later',
    });
  });

  it('gives up when no retry time is given', async () => {
    const { store } = memoryStore();
    const { notification } = await store.enqueueNotification(aNotification());
    await store.claimDueNotifications(T0, 10);

    expect(await store.markNotificationFailed(notification.id, 'mailbox does not exist', null)).toBe(true);
    expect(await store.getNotification(notification.id)).toMatchObject({
      status: 'failed',
      lastError: 'mailbox does not exist',
    });
    expect(await store.claimDueNotifications(at(CLAIM_TIMEOUT * 10), 10)).toEqual([]);
    expect(await store.markNotificationFailed(notification.id, 'again', at(1))).toBe(false);
    expect(await store.markNotificationSent(notification.id)).toBe(false);
  });

  it('rejects a non-positive claim limit with a coded error', async () => {
    const { store } = memoryStore();
    await expect(store.claimDueNotifications(T0, 0)).rejects.toMatchObject({ code: 'STORE_INVALID_ARGUMENT' });
  });
});
