import { gunzipSync } from 'node:zlib';
import { z } from 'zod';
import type { HelmRelease } from './types.js';

/** The type Helm (v3, storage driver "secret") gives the Secrets that hold its releases. */
export const HELM_RELEASE_SECRET_TYPE = 'helm.sh/release.v1';

/** Only the fields read: the release's identity, its state and the values the user supplied. */
const releaseSchema = z.object({
  name: z.string().min(1),
  namespace: z.string().min(1),
  version: z.number().int().positive(),
  info: z.object({ status: z.string() }),
  chart: z.object({ metadata: z.object({ name: z.string().min(1), version: z.string().min(1), appVersion: z.string().optional() }) }),
  config: z.record(z.string(), z.unknown()).nullish(),
});

interface ReleaseSecret {
  readonly type?: string | undefined;
  readonly metadata?: { readonly name?: string | undefined } | undefined;
  readonly data?: Readonly<Record<string, string>> | undefined;
}

/**
 * One Helm release from its storage Secret `sh.helm.release.v1.<name>.v<revision>`: the Secret's `release` key is
 * (after the Secret's own base64) Helm's base64 of the gzipped release JSON. Throws with a reason a person can act
 * on when the Secret is not one Helm wrote.
 */
export function decodeHelmRelease(secret: ReleaseSecret): HelmRelease {
  const payload = secret.data?.release;
  if (!payload) throw new Error(`Secret ${secret.metadata?.name ?? '?'} has no release key`);
  const helmBase64 = Buffer.from(payload, 'base64').toString('utf8');
  let json: unknown;
  try {
    const bytes = Buffer.from(helmBase64, 'base64');
    // Helm gzips what it stores but reads plain JSON too (its decoder checks the gzip magic bytes first)
    json = JSON.parse((bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString('utf8'));
  } catch {
    throw new Error(`Secret ${secret.metadata?.name ?? '?'} does not hold a Helm release`);
  }
  const r = releaseSchema.safeParse(json);
  if (!r.success) throw new Error(`Secret ${secret.metadata?.name ?? '?'} holds no Helm release this bot understands (${r.error.issues[0]?.path.join('.') ?? '?'})`);
  const d = r.data;
  return {
    name: d.name,
    namespace: d.namespace,
    revision: d.version,
    status: d.info.status,
    chart: d.chart.metadata.name,
    chartVersion: d.chart.metadata.version,
    ...(d.chart.metadata.appVersion ? { appVersion: d.chart.metadata.appVersion } : {}),
    values: d.config ?? {},
  };
}

/** Per release name the newest revision Helm records as deployed (older revisions are history, not state). */
export function deployedReleases(secrets: readonly ReleaseSecret[]): HelmRelease[] {
  const newest = new Map<string, HelmRelease>();
  for (const s of secrets) {
    if (s.type !== HELM_RELEASE_SECRET_TYPE) continue;
    const r = decodeHelmRelease(s);
    if (r.status !== 'deployed') continue;
    const key = `${r.namespace}/${r.name}`;
    if ((newest.get(key)?.revision ?? 0) < r.revision) newest.set(key, r);
  }
  return [...newest.values()].sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
}
