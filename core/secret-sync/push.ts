import { AppError } from '../errors/app-error.js';
import type { SecretMapping } from '../config/schema.js';
import { describeMapping, type Observation, type SecretSyncDeps } from './observe.js';

export interface PushWrite {
  readonly mapping: SecretMapping;
  /** The new Key Vault version's id. */
  readonly version: string;
}

/** Mappings whose Secret key is missing in the cluster: push refuses them all before writing anything. */
const missingInCluster = (o: Observation) => o.drift.filter((d) => d.state === 'missing in the cluster' || d.state === 'missing on both sides').map((d) => d.mapping);

/**
 * Cluster → Key Vault, before a teardown: each mapped key whose value differs from the Key Vault secret's current
 * version (or has no Key Vault secret yet) is set as a new version; an unchanged value gets no new version, so
 * pushing twice adds nothing. A key missing in the cluster fails the push with its name before the first write.
 */
export async function applyPush(deps: SecretSyncDeps, o: Observation): Promise<PushWrite[]> {
  const missing = missingInCluster(o);
  if (missing.length) throw new AppError('AKS_SECRET_PUSH_CLUSTER_MISSING', { environment: deps.environment, names: missing.map((m) => `${m.namespace}/${m.secret}[${m.key}]`).join(', ') });
  const writes: PushWrite[] = [];
  for (const s of o.sides) {
    if (s.cluster === undefined || s.vault?.value === s.cluster) continue;
    const tags = { 'pushed-by': 'aks-lifecycle-bot', 'kubernetes-secret': `${s.mapping.namespace}/${s.mapping.secret}`, 'kubernetes-key': s.mapping.key };
    const { version } = await deps.vault.write(s.mapping.keyVault, s.cluster, tags);
    deps.log.info({ environment: deps.environment, mapping: describeMapping(s.mapping), keyVaultVersion: version }, 'secret key pushed to Key Vault');
    writes.push({ mapping: s.mapping, version });
  }
  return writes;
}
