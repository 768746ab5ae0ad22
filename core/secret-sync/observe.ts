import type { KeyVaultSecretStore, VaultSecret } from '../clients/keyvault/secret-store.js';
import type { KubeSecrets } from '../clients/kube/secrets.js';
import type { SecretMapping } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import type { Redactor } from '../log/redact.js';

/** What `secrets sync` and `secrets push` work with: the environment's vault and cluster, and the mappings. */
export interface SecretSyncDeps {
  readonly environment: string;
  readonly mappings: readonly SecretMapping[];
  readonly vault: KeyVaultSecretStore;
  readonly cluster: KubeSecrets;
  /** Every value read is registered here before anything else happens with it. */
  readonly redactor: Redactor;
  readonly log: Logger;
}

export type DriftState = 'in sync' | 'differs' | 'missing in Key Vault' | 'missing in the cluster' | 'missing on both sides';

/** One mapping's state: names only, never a value, so it may go to chat, the journal and the log. */
export interface MappingDrift {
  readonly mapping: SecretMapping;
  readonly state: DriftState;
}

/** Both sides of one mapping as read. Holds values: kept in memory for the writes, never logged or returned. */
interface Sides {
  readonly mapping: SecretMapping;
  readonly vault: VaultSecret | undefined;
  readonly cluster: string | undefined;
}

/** Everything read in one go, before anything is written: the drift report and, privately, the values. */
export class Observation {
  readonly drift: readonly MappingDrift[];
  /** @internal the values, for sync.ts and push.ts only */
  readonly sides: readonly Sides[];

  constructor(sides: readonly Sides[]) {
    this.sides = sides;
    this.drift = sides.map((s) => ({ mapping: s.mapping, state: stateOf(s) }));
  }

  /** Never the values, whatever serializes this (a logger, JSON in a reply). */
  toJSON(): unknown {
    return { drift: this.drift };
  }
}

function stateOf(s: Sides): DriftState {
  if (!s.vault && s.cluster === undefined) return 'missing on both sides';
  if (!s.vault) return 'missing in Key Vault';
  if (s.cluster === undefined) return 'missing in the cluster';
  return s.vault.value === s.cluster ? 'in sync' : 'differs';
}

/** "mongodb-root-password ↔ rocketchat/chat-mongodb[mongodb-root-password]" */
export const describeMapping = (m: SecretMapping): string => `${m.keyVault} ↔ ${m.namespace}/${m.secret}[${m.key}]`;

/** The redactor masks the value and its base64 form (what the Kubernetes API carries). */
function register(redactor: Redactor, value: string | undefined): void {
  if (value === undefined) return;
  redactor.add(value);
  redactor.add(Buffer.from(value, 'utf8').toString('base64'));
}

/**
 * Reads every mapped Key Vault secret and every mapped Secret (each Secret once), registering each value with the
 * redactor as it arrives. Nothing is written: sync and push decide from the whole picture, so a missing secret on
 * the side they read from stops them before their first write.
 */
export async function observe(deps: SecretSyncDeps): Promise<Observation> {
  const secrets = new Map<string, Promise<Map<string, string> | undefined>>();
  const secretOf = (m: SecretMapping) => {
    const id = `${m.namespace}/${m.secret}`;
    let p = secrets.get(id);
    if (!p) secrets.set(id, (p = deps.cluster.read(m.namespace, m.secret)));
    return p;
  };
  const sides = await Promise.all(
    deps.mappings.map(async (mapping): Promise<Sides> => {
      const [vault, data] = await Promise.all([deps.vault.read(mapping.keyVault), secretOf(mapping)]);
      register(deps.redactor, vault?.value);
      const cluster = data?.get(mapping.key);
      register(deps.redactor, cluster);
      return { mapping, vault, cluster };
    }),
  );
  const o = new Observation(sides);
  deps.log.info({ environment: deps.environment, drift: o.drift.map((d) => `${describeMapping(d.mapping)}: ${d.state}`) }, 'secret drift read');
  return o;
}

/** The drift report, one line per mapping, names and states only. */
export function formatDrift(drift: readonly MappingDrift[]): string[] {
  const out = drift.filter((d) => d.state !== 'in sync').length;
  return [`Key Vault ↔ cluster, ${drift.length} mappings, ${out === 0 ? 'all in sync' : `${out} not in sync`}:`, ...drift.map((d) => `  ${describeMapping(d.mapping)}: ${d.state}`)];
}

/** Counts per state, for the run's journal. */
export function driftCounts(drift: readonly MappingDrift[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const d of drift) counts[d.state] = (counts[d.state] ?? 0) + 1;
  return counts;
}
