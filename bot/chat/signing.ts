import { createHmac, timingSafeEqual } from 'node:crypto';
import { AppError } from '../../core/errors/app-error.js';

// Requests from the Rocket.Chat App (and anything else that knows the shared secret) carry
//   x-aks-timestamp: unix seconds   x-aks-nonce: 16–64 url-safe characters   x-aks-signature: v1=<hex>
// where the signature is HMAC-SHA256(secret, "<timestamp>.<nonce>.<raw body>"). The App's endpoints have no
// authentication of their own (DOMAIN.md §6), so this is the only proof a request came from the App.

export const SIGNATURE_HEADERS = { timestamp: 'x-aks-timestamp', nonce: 'x-aks-nonce', signature: 'x-aks-signature' } as const;

export function signBody(secret: string, timestamp: string, nonce: string, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${nonce}.${body}`).digest('hex')}`;
}

/** Remembers nonces until their timestamp leaves the window; bounded so a flood cannot exhaust memory. */
export class NonceCache {
  private readonly seen = new Map<string, number>();

  constructor(private readonly capacity = 100_000) {}

  /** False when the nonce was seen within its lifetime (a replay). */
  remember(nonce: string, expiresAtMs: number, nowMs: number): boolean {
    for (const [n, exp] of this.seen) {
      if (exp > nowMs && this.seen.size < this.capacity) break;
      this.seen.delete(n);
    }
    const exp = this.seen.get(nonce);
    if (exp !== undefined && exp > nowMs) return false;
    this.seen.set(nonce, expiresAtMs);
    return true;
  }
}

export interface VerifyInput {
  readonly secret: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly rawBody: string;
  readonly now: Date;
  readonly windowSeconds: number;
  readonly nonces: NonceCache;
}

/** Throws a coded error unless the request is signed, fresh and new. Checks the signature before the nonce. */
export function verifySignedRequest(v: VerifyInput): void {
  const header = (name: string): string | undefined => {
    const h = v.headers[name];
    return Array.isArray(h) ? h[0] : h;
  };
  const timestamp = header(SIGNATURE_HEADERS.timestamp) ?? '';
  const nonce = header(SIGNATURE_HEADERS.nonce) ?? '';
  const given = header(SIGNATURE_HEADERS.signature) ?? '';
  if (!/^\d{1,12}$/.test(timestamp) || !/^[A-Za-z0-9_-]{16,64}$/.test(nonce)) throw new AppError('AKS_SIGNATURE_INVALID');
  const expected = signBody(v.secret, timestamp, nonce, v.rawBody);
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  if (a.length !== b.length || !timingSafeEqual(a, b)) throw new AppError('AKS_SIGNATURE_INVALID');
  const ageSeconds = Math.abs(v.now.getTime() / 1000 - Number(timestamp));
  if (ageSeconds > v.windowSeconds) throw new AppError('AKS_REQUEST_STALE', { timestamp, windowSeconds: v.windowSeconds });
  if (!v.nonces.remember(nonce, (Number(timestamp) + v.windowSeconds) * 1000, v.now.getTime())) throw new AppError('AKS_REQUEST_REPLAYED', { nonce });
}
