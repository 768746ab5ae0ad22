import { ensureClusterDeleted } from '../../../../core/clients/arm/cluster-delete.js';
import { createArmClients, type ArmClients } from '../../../../core/clients/arm/clients.js';
import type { Action } from '../../../../core/engine/action.js';
import type { Logger } from '../../../../core/log/logger.js';

// A three-step action around one long-running Azure operation, shared by the test and the child process it kills.

export const SUB = '11111111-2222-3333-4444-555555555555';
export const RG = 'rg-c';
export const CLUSTER = 'aks';

export interface ClusterInput {
  readonly clients: ArmClients;
  readonly log: Logger;
}

export function armClients(url: string, ca: string): ArmClients {
  return createArmClients({
    subscriptionId: SUB,
    credential: { getToken: async () => ({ token: 'fake-arm-token', expiresOnTimestamp: Date.now() + 3_600_000 }) },
    endpoint: url,
    ca,
    retry: { maxRetries: 0 },
  });
}

export const deleteClusterAction: Action<ClusterInput> = {
  name: 'cluster-delete-demo',
  version: 1,
  plan: async () => [
    {
      name: 'read the cluster',
      touches: [`Azure: managed cluster ${RG}/${CLUSTER} (read)`],
      async run({ input }) {
        const c = await input.clients.aks.managedClusters.get(RG, CLUSTER);
        return { location: c.location ?? 'unknown', kubernetesVersion: c.kubernetesVersion ?? 'unknown' };
      },
    },
    {
      name: 'delete the cluster',
      touches: [`Azure: managed cluster ${RG}/${CLUSTER} (delete)`],
      async run({ input, operation, signal, outputs }) {
        const { operationUrl } = await ensureClusterDeleted(input.clients, RG, CLUSTER, operation, { environment: 'prod', log: input.log, signal, pollIntervalMs: 20 });
        return { operationUrl: operationUrl ?? null, location: outputs('read the cluster').location! };
      },
    },
  ],
};
