import { timingSafeEqual } from 'node:crypto';
import type { Config } from '../../core/config/schema.js';
import { AppError } from '../../core/errors/app-error.js';
import type { Redactor } from '../../core/log/redact.js';
import { resolveSecret, type KeyVaultReader } from '../../core/secrets/resolve.js';
import { signBody } from './signing.js';

// Cost chart URLs for chat messages and emails: GET /charts/cost/<env>.png?exp=<unix seconds>&sig=<hex>. Chat clients
// and mail readers fetch images without custom headers, so the proof is in the URL: an HMAC-SHA256 over the path and
// the expiry with the project's request-signing function (bot/server/signing.ts), under a key derived for chart links
// only, so a chart signature can never pass for a signed App request or an approval link.

export function chartPath(environment: string): string {
  return `/charts/cost/${encodeURIComponent(environment)}.png`;
}

function signature(secret: string, environment: string, exp: number): string {
  return signBody(`cost-chart:${secret}`, String(exp), 'cost-chart', chartPath(environment)).slice('v1='.length);
}

export interface ChartLinkInput {
  readonly publicUrl: string;
  readonly environment: string;
  readonly secret: string;
  readonly now: Date;
  readonly ttlHours: number;
}

/** A signed, expiring URL of an environment's cost chart. */
export function signChartUrl(i: ChartLinkInput): string {
  const exp = Math.floor(i.now.getTime() / 1000 + i.ttlHours * 3600);
  return `${i.publicUrl.replace(/\/+$/, '')}${chartPath(i.environment)}?exp=${exp}&sig=${signature(i.secret, i.environment, exp)}`;
}

export interface ChartLinkQuery {
  readonly exp?: unknown;
  readonly sig?: unknown;
}

/**
 * Throws AKS_CHART_LINK_INVALID unless `query` signs this environment's chart and has not expired. The signature is
 * compared in constant time before anything else is looked at; an expiry beyond the configured lifetime is refused
 * too, so shortening costChart.linkTtlHours retires older links.
 */
export function verifyChartLink(secret: string, environment: string, query: ChartLinkQuery, now: Date, ttlHours: number): void {
  const exp = typeof query.exp === 'string' && /^\d{1,12}$/.test(query.exp) ? Number(query.exp) : undefined;
  const sig = typeof query.sig === 'string' && /^[0-9a-f]{64}$/.test(query.sig) ? query.sig : undefined;
  if (exp === undefined || sig === undefined) throw new AppError('AKS_CHART_LINK_INVALID', { reason: 'it is not signed (exp and sig are missing or malformed)' });
  const given = Buffer.from(sig);
  const expected = Buffer.from(signature(secret, environment, exp));
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new AppError('AKS_CHART_LINK_INVALID', { reason: 'its signature does not match' });
  const nowS = now.getTime() / 1000;
  if (exp <= nowS) throw new AppError('AKS_CHART_LINK_INVALID', { reason: 'it has expired' });
  if (exp > nowS + ttlHours * 3600 + 60) throw new AppError('AKS_CHART_LINK_INVALID', { reason: 'its expiry is later than costChart.linkTtlHours allows' });
}

/**
 * For other code (cost alerts, chat replies): makes signed chart URLs from the configuration, resolving the key
 * once. Undefined for every environment when bot.publicUrl or costChart is not configured: then there is no link.
 */
export function chartUrlSigner(
  deps: { readonly config: Config; readonly redactor: Redactor; readonly now: () => Date },
  secrets: { readonly env?: NodeJS.ProcessEnv; readonly keyVault?: KeyVaultReader } = {},
): (environment: string) => Promise<string | undefined> {
  const cfg = deps.config.costChart;
  const publicUrl = deps.config.bot.publicUrl;
  let secret: Promise<string> | undefined;
  return async (environment) => {
    if (!cfg || !publicUrl || !Object.hasOwn(deps.config.environments, environment)) return undefined;
    secret ??= resolveSecret(cfg.linkSecret, { redactor: deps.redactor, env: secrets.env ?? process.env, ...(secrets.keyVault ? { keyVault: secrets.keyVault } : {}) });
    try {
      return signChartUrl({ publicUrl, environment, secret: await secret, now: deps.now(), ttlHours: cfg.linkTtlHours });
    } catch (err) {
      secret = undefined; // the variable or vault may answer next time
      throw err;
    }
  };
}
