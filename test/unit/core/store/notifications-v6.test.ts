import { describe, expect, it } from 'vitest';
import { anApproval, aNotification, aRun, at, fakeClock, memoryStore, T0 } from './builders.js';

// Migration 6: each sender claims only its own channel, notifications carry attachments, and approval prompts are
// claimed once across processes.

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);

describe('outbox by channel, with attachments', () => {
  it('claims only the asked channel, and everything without one', async () => {
    const { store } = memoryStore();
    await store.enqueueNotification(aNotification({ channel: 'rocketchat', dedupeKey: 'chat-1' }));
    await store.enqueueNotification(aNotification({ channel: 'email', dedupeKey: 'mail-1' }));
    await store.enqueueNotification(aNotification({ channel: 'rocketchat', dedupeKey: 'chat-2' }));

    expect((await store.claimDueNotifications(T0, 10, 'email')).map((n) => n.dedupeKey)).toEqual(['mail-1']);
    // The chat rows were neither claimed nor counted by the email claim.
    expect(await store.findNotification('chat-1')).toMatchObject({ attempts: 0, nextAttemptAt: T0 });
    expect((await store.claimDueNotifications(T0, 10, 'rocketchat')).map((n) => n.dedupeKey)).toEqual(['chat-1', 'chat-2']);
    expect(await store.claimDueNotifications(T0, 10)).toEqual([]);
  });

  it('stores attachments with the notification, in order, and not again for a duplicate key', async () => {
    const { store } = memoryStore();
    const files = [
      { filename: 'cost.png', contentType: 'image/png', content: PNG },
      { filename: 'notes.txt', contentType: 'text/plain', content: Buffer.from('hi') },
    ];
    const { notification } = await store.enqueueNotification(aNotification({ attachments: files }));
    const again = await store.enqueueNotification(aNotification({ attachments: [files[1]!] }));
    expect(again.created).toBe(false);
    const stored = await store.notificationAttachments(notification.id);
    expect(stored.map((f) => [f.filename, f.contentType])).toEqual([['cost.png', 'image/png'], ['notes.txt', 'text/plain']]);
    expect(stored[0]!.content.equals(PNG)).toBe(true);
    expect(await store.notificationAttachments(notification.id + 1)).toEqual([]);
  });

  it('finds a notification by its dedupe key', async () => {
    const { store } = memoryStore();
    const { notification } = await store.enqueueNotification(aNotification({ dedupeKey: 'k' }));
    expect(await store.findNotification('k')).toEqual(notification);
    expect(await store.findNotification('other')).toBeUndefined();
  });
});

describe('approval prompts', () => {
  async function pending(store: ReturnType<typeof memoryStore>['store'], expiresAt = at(60 * 60_000)) {
    const run = await store.createRun(aRun({ status: 'awaiting-approval' }));
    return store.createApproval(anApproval(run.id, { expiresAt }));
  }

  it('is claimed once; the poster records where it went; a recorded prompt is never claimed again', async () => {
    const { store, clock } = memoryStore();
    const a = await pending(store);
    expect(await store.listUnpromptedApprovals(T0)).toEqual([a]);
    expect(await store.claimApprovalPrompt(a.id)).toBe(true);
    expect(await store.claimApprovalPrompt(a.id)).toBe(false);
    expect(await store.listUnpromptedApprovals(T0)).toEqual([]);
    expect(await store.recordApprovalPrompt(a.id, 'chat', 'msg-1')).toBe(true);
    expect(await store.getApprovalPrompt(a.id)).toEqual({ approvalId: a.id, claimedAt: T0, via: 'chat', messageId: 'msg-1', postedAt: T0 });
    clock.advance(60 * 60_000);
    expect(await store.claimApprovalPrompt(a.id)).toBe(false);
    expect(await store.recordApprovalPrompt(a.id, 'email', null)).toBe(false);
  });

  it('gives an unposted claim back on release, and lets another poster take it over after the claim timeout', async () => {
    const { store, clock } = memoryStore(fakeClock());
    const a = await pending(store, at(24 * 60 * 60_000));
    expect(await store.claimApprovalPrompt(a.id)).toBe(true);
    expect(await store.releaseApprovalPrompt(a.id)).toBe(true);
    expect(await store.claimApprovalPrompt(a.id)).toBe(true);
    clock.advance(5 * 60_000 - 1);
    expect(await store.claimApprovalPrompt(a.id)).toBe(false);
    clock.advance(1);
    expect((await store.listUnpromptedApprovals(clock.now())).map((x) => x.id)).toEqual([a.id]);
    expect(await store.claimApprovalPrompt(a.id)).toBe(true); // the first poster crashed mid-post
  });

  it('lists only pending, unexpired approvals created by the given time', async () => {
    const { store } = memoryStore();
    const expired = await pending(store, T0);
    const decided = await pending(store);
    await store.decideApproval({ id: decided.id, status: 'denied', decidedBy: 'erin' });
    const open = await pending(store);
    expect((await store.listUnpromptedApprovals(T0)).map((x) => x.id)).toEqual([open.id]);
    expect(await store.listUnpromptedApprovals(at(-1))).toEqual([]);
    expect(expired.id).toBeLessThan(open.id);
  });
});

describe('audit group commit', () => {
  it('commits entries appended in one turn together, each resolving with its own row, in order', async () => {
    const { store } = memoryStore();
    const entries = Array.from({ length: 50 }, (_, i) => store.appendAudit({ actor: `u${i}`, source: 'chat', command: 'runs', result: 'ok' }));
    const rows = await Promise.all(entries);
    expect(rows.map((r) => r.id)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(rows.map((r) => r.actor)).toEqual(Array.from({ length: 50 }, (_, i) => `u${i}`));
    expect((await store.listAudit({ limit: 100 })).length).toBe(50);
  });

  it('rejects only the entry that cannot be written when its batch fails; the others commit', async () => {
    const { store } = memoryStore();
    const good = store.appendAudit({ actor: 'a', source: 'chat', command: 'runs', result: 'ok' });
    // An invalid source breaks the CHECK constraint and rolls the batch back; the entries are then written alone.
    const bad = store.appendAudit({ actor: 'b', source: 'nowhere' as 'chat', command: 'runs', result: 'ok' });
    const alsoGood = store.appendAudit({ actor: 'c', source: 'chat', command: 'runs', result: 'ok' });
    await expect(bad).rejects.toThrow();
    expect(await good).toMatchObject({ actor: 'a' });
    expect(await alsoGood).toMatchObject({ actor: 'c' });
    expect((await store.listAudit({ limit: 10 })).map((r) => r.actor)).toEqual(['c', 'a']);
  });

  it('writes entries still waiting for their batch when the store is closed, and sees them in listAudit at once', async () => {
    const { store } = memoryStore();
    const first = store.appendAudit({ actor: 'a', source: 'cli', command: 'runs', result: 'ok' });
    expect((await store.listAudit({ limit: 10 })).map((r) => r.actor)).toEqual(['a']);
    await first;
    const waiting = store.appendAudit({ actor: 'b', source: 'cli', command: 'runs', result: 'ok' });
    await store.close();
    await expect(waiting).resolves.toMatchObject({ actor: 'b', id: 2 });
  });
});
