import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import nodemailer from 'nodemailer';
import { useSandbox } from '../../sandbox/use.js';

interface Summary {
  id: string;
  messageId: string | null;
  subject: string;
}

interface Message extends Summary {
  envelope: { from: string | null; to: string[] };
  authUser: string | null;
  from: { address: string; name: string }[];
  to: { address: string; name: string }[];
  cc: { address: string; name: string }[];
  text: string | null;
  html: string | null;
  attachments: { filename: string | null; contentType: string; size: number; checksum: string; contentBase64: string }[];
}

describe('sandbox: SMTP server', () => {
  let ep: Record<string, string>;

  beforeAll(async () => {
    const sb = await useSandbox(['smtp']);
    ep = sb.smtp;
  });

  const transport = (auth?: { user: string; pass: string }): nodemailer.Transporter =>
    nodemailer.createTransport({ host: ep.host, port: Number(ep.port), secure: false, ignoreTLS: true, ...(auth ? { auth } : {}) });

  async function delivered(messageId: string): Promise<Message> {
    for (let i = 0; i < 40; i++) {
      const list = (await (await fetch(`${ep.apiUrl}/messages`)).json()) as Summary[];
      const hit = list.find((m) => m.messageId === messageId);
      if (hit) return (await (await fetch(`${ep.apiUrl}/messages/${hit.id}`)).json()) as Message;
      await sleep(100);
    }
    throw new Error(`message ${messageId} was not delivered`);
  }

  it('delivers a message with recipients, body and attachment that the test reads back', async () => {
    const report = randomBytes(40_000);
    const subject = `Backup finished ${randomUUID()}`;
    const info = await transport({ user: ep.user!, pass: ep.password! }).sendMail({
      from: '"AKS bot" <bot@example.test>',
      to: ['ops@example.test', 'Owner <owner@example.test>'],
      cc: 'audit@example.test',
      bcc: 'hidden@example.test',
      subject,
      text: 'Backup of rocketchat finished: 3 collections, 1200 documents.',
      html: '<p>Backup of <b>rocketchat</b> finished.</p>',
      attachments: [{ filename: 'report.bin', content: report, contentType: 'application/octet-stream' }],
    });
    expect(info.accepted).toHaveLength(4);

    const msg = await delivered(info.messageId);
    expect(msg.subject).toBe(subject);
    expect(msg.authUser).toBe(ep.user);
    expect(msg.from).toEqual([{ address: 'bot@example.test', name: 'AKS bot' }]);
    expect(msg.to.map((a) => a.address)).toEqual(['ops@example.test', 'owner@example.test']);
    expect(msg.cc.map((a) => a.address)).toEqual(['audit@example.test']);
    // bcc is only in the envelope, never in the headers
    expect(msg.envelope.to.sort()).toEqual(['audit@example.test', 'hidden@example.test', 'ops@example.test', 'owner@example.test']);
    expect(msg.text?.trim()).toBe('Backup of rocketchat finished: 3 collections, 1200 documents.');
    expect(msg.html).toContain('<b>rocketchat</b>');

    expect(msg.attachments).toHaveLength(1);
    const att = msg.attachments[0]!;
    expect(att.filename).toBe('report.bin');
    expect(att.size).toBe(report.length);
    expect(att.checksum).toBe(createHash('md5').update(report).digest('hex'));
    expect(Buffer.from(att.contentBase64, 'base64').equals(report)).toBe(true);

    const raw = await (await fetch(`${ep.apiUrl}/messages/${msg.id}/raw`)).text();
    expect(raw).toContain(`Subject: ${subject}`);
    expect(raw).not.toContain('hidden@example.test');
  });

  it('refuses wrong credentials with 535 and unauthenticated mail with 530', async () => {
    await expect(
      transport({ user: ep.user!, pass: 'wrong-password' }).sendMail({ from: 'x@example.test', to: 'y@example.test', subject: 'no', text: 'no' }),
    ).rejects.toMatchObject({ code: 'EAUTH', responseCode: 535 });

    await expect(
      transport().sendMail({ from: 'x@example.test', to: 'y@example.test', subject: 'no', text: 'no' }),
    ).rejects.toMatchObject({ responseCode: 530 });
  });
});
