import type { Logger } from '../../log/logger.js';
import type { ArmClients } from './clients.js';
import { toAzureError } from './errors.js';

export interface ClusterWriter {
  /**
   * PUT of the cluster's current spec (what `az aks update` with no changes does): asks AKS to reconcile a Failed
   * cluster. Resolves when the long-running operation ends; throws a coded error otherwise.
   */
  reconcileCluster(resourceGroup: string, name: string): Promise<string>;
}

export function createClusterWriter(deps: { clients: ArmClients; environment: string; log: Logger }): ClusterWriter {
  const { clients, environment, log } = deps;
  return {
    async reconcileCluster(resourceGroup, name) {
      const op = 'PUT managed cluster (reconcile)';
      try {
        const current = await clients.aks.managedClusters.get(resourceGroup, name);
        // The SDK serializes only writable properties, so the GET result is a valid PUT body of the same spec.
        const done = await clients.aks.managedClusters.createOrUpdate(resourceGroup, name, current);
        log.info({ environment, cluster: name, provisioningState: done.provisioningState }, 'cluster reconciled');
        return done.provisioningState ?? 'unknown';
      } catch (err) {
        throw toAzureError(err, op, environment);
      }
    },
  };
}
