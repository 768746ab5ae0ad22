import type { ClusterWriter } from '../core/clients/arm/cluster-writes.js';
import type { TokenCredential } from '../core/clients/arm/clients.js';
import type { AzureReader } from '../core/clients/arm/types.js';
import type { Config } from '../core/config/schema.js';
import type { Logger } from '../core/log/logger.js';

export interface AzureAccess {
  readonly reader: AzureReader;
  readonly writer: ClusterWriter;
}

/** Reader and writer for a configured environment over one set of ARM clients; undefined without Azure access. */
export type AzureAccessFactory = (environment: string, deps: { config: Config; log: Logger }) => Promise<AzureAccess | undefined>;

export function azureAccessFactory(credential?: TokenCredential): AzureAccessFactory {
  const cache = new Map<string, AzureAccess | undefined>();
  return async (environment, deps) => {
    if (cache.has(environment)) return cache.get(environment);
    const env = deps.config.environments[environment];
    if (!env || env.azure.credential === 'none') return undefined;
    // Loaded on first use, like core/clients/arm/for-environment.ts: the SDKs are slow to import.
    const [{ armClientsForEnvironment }, { createAzureReader }, { createClusterWriter }] = await Promise.all([
      import('../core/clients/arm/clients.js'),
      import('../core/clients/arm/reader.js'),
      import('../core/clients/arm/cluster-writes.js'),
    ]);
    const clients = armClientsForEnvironment(env, credential);
    // One client set per environment for the process: the credential caches its token across ticks.
    const access = clients ? { reader: createAzureReader({ clients, environment, log: deps.log }), writer: createClusterWriter({ clients, environment, log: deps.log }) } : undefined;
    cache.set(environment, access);
    return access;
  };
}
