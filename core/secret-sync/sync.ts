import { AppError } from '../errors/app-error.js';
import type { SecretMapping } from '../config/schema.js';
import { describeMapping, type Observation, type SecretSyncDeps } from './observe.js';

export interface SyncWrite {
  readonly mapping: SecretMapping;
  /** 'created': the Secret did not exist; 'updated': the key was set in an existing Secret. */
  readonly action: 'created' | 'updated';
}

/** Mappings whose Key Vault secret is missing: sync refuses them all before writing anything. */
const missingInVault = (o: Observation) => o.drift.filter((d) => d.state === 'missing in Key Vault' || d.state === 'missing on both sides').map((d) => d.mapping);

/** What `secrets sync` would do with this observation, for --dry-run and the approval prompt. */
export function planSync(o: Observation): string[] {
  const missing = missingInVault(o);
  if (missing.length) return [`refuse and change nothing: Key Vault has no secret ${missing.map((m) => m.keyVault).join(', ')}`];
  const writes = o.drift.filter((d) => d.state !== 'in sync');
  return [
    ...writes.map((d) => `${d.state === 'differs' ? 'overwrite' : 'create'} ${d.mapping.namespace}/${d.mapping.secret}[${d.mapping.key}] with Key Vault secret ${d.mapping.keyVault} (${d.state})`),
    `leave ${o.drift.length - writes.length} keys that are in sync, and every key no mapping names, as they are`,
  ];
}

/**
 * Key Vault → cluster: every key that differs or is missing in the cluster is set from its Key Vault secret, one
 * merge patch per key, so a Secret's other keys stay. A Key Vault secret missing for any mapping fails the whole
 * sync with its name before the first write (the cluster keeps a consistent set of credentials). Keys already in
 * sync are not written, so a second sync writes nothing.
 */
export async function applySync(deps: SecretSyncDeps, o: Observation): Promise<SyncWrite[]> {
  const missing = missingInVault(o);
  if (missing.length) throw new AppError('AKS_SECRET_SYNC_KEYVAULT_MISSING', { environment: deps.environment, names: missing.map((m) => m.keyVault).join(', ') });
  const writes: SyncWrite[] = [];
  for (const s of o.sides) {
    if (s.vault === undefined || s.vault.value === s.cluster) continue;
    const action = await deps.cluster.writeKey({ namespace: s.mapping.namespace, secret: s.mapping.secret, key: s.mapping.key }, s.vault.value);
    deps.log.info({ environment: deps.environment, mapping: describeMapping(s.mapping), action, keyVaultVersion: s.vault.version }, 'secret key written from Key Vault');
    writes.push({ mapping: s.mapping, action });
  }
  return writes;
}
