import { clientsOf, type ClientsFallback } from '../clients/index.js';
import { AppError } from '../errors/app-error.js';
import type { RuntimeContext } from '../backup/runtime.js';
import type { ClusterStateDeps } from './types.js';

export interface ClusterStateRuntime {
  readonly deps: ClusterStateDeps;
  close(): Promise<void>;
}

export type ClusterStateRuntimeFactory = (environment: string, ctx: RuntimeContext) => Promise<ClusterStateRuntime>;

/**
 * What an export or import needs, from the environment's clients (core/clients): the kubeconfig, the backup
 * container, and the Key Vault key wrapper and manifest signer of the database backup, so both parts of a set are
 * sealed and signed alike. Clients from the context are shared; without them they are built for this runtime.
 */
export function clusterStateRuntimeFactory(fallback: ClientsFallback = {}): ClusterStateRuntimeFactory {
  return async (environment, ctx) => {
    const envCfg = ctx.config.environments[environment];
    if (!envCfg) throw new AppError('AKS_UNKNOWN_ENVIRONMENT', { environment, known: Object.keys(ctx.config.environments).join(', ') });
    const { clients, owned } = clientsOf(ctx, fallback);
    try {
      const c = clients.clientsFor(environment);
      const keyVault = await c.keyVault();
      const container = await c.blobContainer();
      const kubeConfig = await c.kubeConfig();
      return {
        deps: {
          environment,
          kubeConfig,
          container,
          prefix: envCfg.backup.prefix ?? environment,
          keys: keyVault.keys,
          signer: keyVault.signer,
          namespaces: envCfg.clusterState.namespaces ?? [envCfg.rocketchat.namespace],
          certManagerNamespace: envCfg.clusterState.certManagerNamespace,
          log: ctx.log,
          now: ctx.now,
        },
        close: owned ? () => clients.close() : async () => undefined,
      };
    } catch (err) {
      if (owned) await clients.close();
      throw err;
    }
  };
}
