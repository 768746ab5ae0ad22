import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { AppError } from '../../core/errors/app-error.js';

// Approval links in emails: a payload (run, approval, decision, approver, expiry) and its HMAC-SHA256, both
// base64url, joined by a dot. The link names its approver, so forwarding the mail does not forward the right to
// decide as someone else; it expires with the approval; it is single-use because deciding is a check-and-set on
// the approval (the second click finds it decided).

const payloadSchema = z.strictObject({
  r: z.number().int().positive(),
  a: z.number().int().positive(),
  d: z.enum(['approve', 'deny']),
  u: z.string().min(1).max(120),
  e: z.number().int().positive(),
});
export type LinkPayload = z.infer<typeof payloadSchema>;

function mac(secret: string, body: string): Buffer {
  return createHmac('sha256', `approval-link:${secret}`).update(body).digest();
}

export function signLink(secret: string, p: LinkPayload): string {
  const body = Buffer.from(JSON.stringify(p)).toString('base64url');
  return `${body}.${mac(secret, body).toString('base64url')}`;
}

export function verifyLink(secret: string, token: string, now: Date): LinkPayload {
  const [body, sig, extra] = token.split('.');
  if (!body || !sig || extra !== undefined || token.length > 1_000) throw new AppError('AKS_LINK_INVALID', { reason: 'it is malformed' });
  // Compare the canonical text, not decoded bytes: base64url decoding ignores the spare low bits of the last
  // character, so a lenient decode would accept several spellings of one signature.
  const given = Buffer.from(sig);
  const expected = Buffer.from(mac(secret, body).toString('base64url'));
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new AppError('AKS_LINK_INVALID', { reason: 'its signature does not match' });
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    throw new AppError('AKS_LINK_INVALID', { reason: 'it is malformed' });
  }
  const p = payloadSchema.safeParse(json);
  if (!p.success) throw new AppError('AKS_LINK_INVALID', { reason: 'it is malformed' });
  if (p.data.e * 1000 <= now.getTime()) throw new AppError('AKS_LINK_INVALID', { reason: 'it has expired' });
  return p.data;
}
