import { createHmac, timingSafeEqual } from 'node:crypto';
import { AppError } from '../../core/errors/app-error.js';
import type { NonceStore } from '../../core/store/types.js';

// Requests from the Rocket.Chat App (and anything else that knows the shared secret) carry
//   x-aks-timestamp: unix seconds   x-aks-nonce: 16–64 url-safe characters   x-aks-signature: v2=<hex>
// where the signature is HMAC-SHA256(secret, "v2\n<METHOD>\n<path>\n<timestamp>\n<nonce>\n<raw body>"), so a
// signature is good for one method, one route and one body. The App's endpoints have no authentication of their
// own (docs/rocketchat-app.md), so this is the only proof a request came from the App. The scheme, the window and the
// replay store are described in bot/chat/README.md; the App signs with the same format in
// bot/rocketchat-app/src/logic.ts.

export const SIGNATURE_HEADERS = { timestamp: 'x-aks-timestamp', nonce: 'x-aks-nonce', signature: 'x-aks-signature' } as const;

export interface RequestToSign {
  /** Upper-case HTTP method. */
  readonly method: string;
  /** The request target as the bot's router sees it: path and query, without the bot's base URL. */
  readonly path: string;
  readonly timestamp: string;
  readonly nonce: string;
  readonly body: string;
}

/** The exact text the signature covers; fields are separated by newlines, which none of the first five holds. */
export function canonicalRequest(r: RequestToSign): string {
  return `v2\n${r.method.toUpperCase()}\n${r.path}\n${r.timestamp}\n${r.nonce}\n${r.body}`;
}

export function signRequest(secret: string, r: RequestToSign): string {
  return `v2=${createHmac('sha256', secret).update(canonicalRequest(r)).digest('hex')}`;
}

/**
 * The first scheme's MAC over "<timestamp>.<nonce>.<body>", without method or path. Requests signed with it are
 * refused; the cost chart links (bot/server/chart-links.ts) still use it as a plain keyed MAC.
 */
export function signBody(secret: string, timestamp: string, nonce: string, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${nonce}.${body}`).digest('hex')}`;
}

export interface Window {
  /** How old a timestamp may be, in seconds. */
  readonly windowSeconds: number;
  /** How far in the future a timestamp may be (clock skew between Rocket.Chat and the bot), in seconds. */
  readonly skewSeconds: number;
}

/**
 * The last millisecond at which a timestamp is acceptable. Both the freshness check and the nonce's lifetime are
 * derived from it, so a nonce is remembered for exactly as long as its request could be accepted.
 */
export function acceptableUntilMs(timestampSeconds: number, w: Window): number {
  return (timestampSeconds + w.windowSeconds) * 1000;
}

/** Acceptable from `skewSeconds` before the timestamp through `windowSeconds` after it, both ends included. */
export function isFresh(timestampSeconds: number, nowMs: number, w: Window): boolean {
  return nowMs >= (timestampSeconds - w.skewSeconds) * 1000 && nowMs <= acceptableUntilMs(timestampSeconds, w);
}

export interface VerifyInput extends Window {
  readonly secret: string;
  readonly method: string;
  /** The request target received (path and query). */
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly rawBody: string;
  readonly now: Date;
  readonly nonces: Pick<NonceStore, 'rememberNonce'>;
}

/**
 * Throws a coded error unless the request is signed, fresh and new: AKS_SIGNATURE_INVALID, AKS_REQUEST_STALE or
 * AKS_REQUEST_REPLAYED. The caller shows all three the same way (the reason is for the log only). The signature
 * and the time are checked before the nonce is stored, so only requests signed with the secret reach the store.
 */
export async function verifySignedRequest(v: VerifyInput): Promise<void> {
  const header = (name: string): string | undefined => {
    const h = v.headers[name];
    return Array.isArray(h) ? h[0] : h;
  };
  const timestamp = header(SIGNATURE_HEADERS.timestamp) ?? '';
  const nonce = header(SIGNATURE_HEADERS.nonce) ?? '';
  const given = header(SIGNATURE_HEADERS.signature) ?? '';
  if (!/^\d{1,12}$/.test(timestamp) || !/^[A-Za-z0-9_-]{16,64}$/.test(nonce)) throw new AppError('AKS_SIGNATURE_INVALID');
  const expected = signRequest(v.secret, { method: v.method, path: v.path, timestamp, nonce, body: v.rawBody });
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  if (a.length !== b.length || !timingSafeEqual(a, b)) throw new AppError('AKS_SIGNATURE_INVALID');
  const ts = Number(timestamp);
  const nowMs = v.now.getTime();
  if (!isFresh(ts, nowMs, v)) throw new AppError('AKS_REQUEST_STALE', { timestamp, windowSeconds: v.windowSeconds });
  if (!(await v.nonces.rememberNonce(nonce, new Date(acceptableUntilMs(ts, v)), v.now))) throw new AppError('AKS_REQUEST_REPLAYED', { nonce });
}
