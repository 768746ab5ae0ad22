import type { Config } from '../config/schema.js';

/**
 * What a command can need from its environment, one entry per outside system of core/clients. A command declares
 * its needs (CommandSpec.requires); the scheduler checks them at start and the clients check them when built, so
 * a missing setting is reported with its configuration path before anything runs.
 */
export type ClientNeed = 'arm' | 'keyVault' | 'blob' | 'kube' | 'mongo';

export const CLIENT_NEEDS: readonly ClientNeed[] = ['arm', 'keyVault', 'blob', 'kube', 'mongo'];

export interface MissingSetting {
  /** The configuration path, e.g. environments.prod.backup.keyVaultUrl. */
  readonly path: string;
  /** Why it is needed or what is wrong with it, without the path. */
  readonly reason: string;
}

/** The settings of `environment` that `need` lacks; empty when the configuration provides it. */
export function missingSettings(config: Config, environment: string, need: ClientNeed): MissingSetting[] {
  const env = config.environments[environment];
  if (!env) return [{ path: `environments.${environment}`, reason: 'the environment is not configured' }];
  const at = (p: string) => `environments.${environment}.${p}`;
  const noAzure = (what: string): MissingSetting => ({ path: at('azure.credential'), reason: `it is none, so ${what} cannot be reached` });
  const b = env.backup;
  switch (need) {
    case 'arm':
      return env.azure.credential === 'none' ? [noAzure('Azure Resource Manager')] : [];
    case 'keyVault':
      return [
        ...(b.keyVaultUrl ? [] : [{ path: at('backup.keyVaultUrl'), reason: 'the data keys are wrapped by a Key Vault key' }]),
        ...(env.azure.credential === 'none' ? [noAzure('Key Vault')] : []),
      ];
    case 'blob':
      if (b.storageConnectionString) return [];
      if (!b.storageAccountUrl) return [{ path: at('backup.storageAccountUrl'), reason: 'the backup sets are stored in Blob (or set backup.storageConnectionString)' }];
      // without a storage key the account is reached with the Azure identity
      return b.storageKey || env.azure.credential !== 'none' ? [] : [noAzure('the storage account (no backup.storageKey)')];
    case 'kube': {
      const k = env.kubernetes;
      if (k.kubeconfigPath && k.kubeconfig) return [{ path: at('kubernetes.kubeconfig'), reason: 'set either kubernetes.kubeconfigPath or kubernetes.kubeconfig, not both' }];
      return k.kubeconfigPath || k.kubeconfig ? [] : [{ path: at('kubernetes.kubeconfigPath'), reason: 'the cluster is reached through its Kubernetes API (or set kubernetes.kubeconfig)' }];
    }
    case 'mongo':
      // the in-pod executor reaches MongoDB through the Kubernetes API; the local one has its uri (required by the schema)
      return b.executor.kind === 'kubernetes' ? missingSettings(config, environment, 'kube').map((m) => ({ ...m, reason: `${m.reason}; backup.executor is kubernetes` })) : [];
  }
}

/** Every missing setting of every need, each once. */
export function missingForNeeds(config: Config, environment: string, needs: readonly ClientNeed[]): MissingSetting[] {
  const seen = new Set<string>();
  return needs.flatMap((n) => missingSettings(config, environment, n)).filter((m) => !seen.has(m.path) && (seen.add(m.path), true));
}
