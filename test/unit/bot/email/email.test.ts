import { describe, expect, it } from 'vitest';
import { signLink, verifyLink } from '../../../../bot/email/links.js';
import { OutboxMailer, retryDelayMs, type MailTransport } from '../../../../bot/email/mailer.js';
import { testDeps } from '../../../helpers/deps.js';

const now = new Date('2026-11-26T12:00:00Z');
const payload = { r: 42, a: 7, d: 'approve' as const, u: 'erin', e: Math.floor(now.getTime() / 1000) + 600 };

describe('signed approval links', () => {
  it('round-trips', () => {
    expect(verifyLink('k1', signLink('k1', payload), now)).toEqual(payload);
  });

  const swap = (token: string, i: number) => token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
  it.each([
    ['another key', (t: string) => t, 'k2', 'signature'],
    ['a changed payload', (t: string) => swap(t, 3), 'k1', 'signature'],
    ['a changed signature', (t: string) => swap(t, t.length - 2), 'k1', 'signature'],
    ['a forged approver', () => `${Buffer.from(JSON.stringify({ ...payload, u: 'mallory' })).toString('base64url')}.${signLink('k1', payload).split('.')[1]}`, 'k1', 'signature'],
    ['no signature', (t: string) => t.split('.')[0]!, 'k1', 'malformed'],
    ['extra parts', (t: string) => `${t}.x`, 'k1', 'malformed'],
  ])('refuses %s', (_n, change, key, reason) => {
    expect(() => verifyLink(key, change(signLink('k1', payload)), now)).toThrow(expect.objectContaining({ code: 'AKS_LINK_INVALID', message: expect.stringContaining(reason) }));
  });

  it('refuses another spelling of a valid signature (spare bits of the last base64url character)', () => {
    const token = signLink('k1', payload);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(token[token.length - 1]!);
    const respelled = token.slice(0, -1) + alphabet[last ^ 1]!;
    // the two spellings decode to the same bytes, so a byte comparison alone would accept the second
    expect(Buffer.from(respelled.split('.')[1]!, 'base64url')).toEqual(Buffer.from(token.split('.')[1]!, 'base64url'));
    expect(() => verifyLink('k1', respelled, now)).toThrow(expect.objectContaining({ code: 'AKS_LINK_INVALID' }));
  });

  it('refuses an expired link', () => {
    expect(() => verifyLink('k1', signLink('k1', payload), new Date((payload.e + 1) * 1000))).toThrow(expect.objectContaining({ message: expect.stringContaining('expired') }));
  });
});

describe('OutboxMailer', () => {
  it('retries a failed send later with a growing delay, then delivers it once', async () => {
    const deps = testDeps({ now });
    let clock = now;
    const sent: string[] = [];
    let up = false;
    const transport: MailTransport = {
      sendMail: async (m) => {
        if (!up) throw new Error('connect ECONNREFUSED');
        sent.push(m.subject);
      },
    };
    const mailer = new OutboxMailer({ store: deps.store, transport, from: 'bot@example.test', log: deps.log, now: () => clock });
    await deps.store.enqueueNotification({ channel: 'email', recipient: 'ops@example.test', subject: 'Run 1 failed', body: 'x', dedupeKey: 'k' });
    await deps.store.enqueueNotification({ channel: 'email', recipient: 'ops@example.test', subject: 'Run 1 failed', body: 'x', dedupeKey: 'k' });
    expect(await mailer.drain()).toBe(0);
    expect(await mailer.drain()).toBe(0); // not due yet
    up = true;
    clock = new Date(now.getTime() + retryDelayMs(1));
    expect(await mailer.drain()).toBe(1);
    expect(await mailer.drain()).toBe(0);
    expect(sent).toEqual(['Run 1 failed']);
  });

  it.each([
    [1, 30_000],
    [2, 60_000],
    [3, 120_000],
    [20, 1_800_000],
  ])('attempt %i waits %i ms', (n, ms) => {
    expect(retryDelayMs(n)).toBe(ms);
  });
});
