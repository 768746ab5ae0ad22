import { restorePoller } from '@azure/arm-containerservice';
import type { Logger } from '../../log/logger.js';
import type { ArmClients } from './clients.js';
import { statusOf, toAzureError } from './errors.js';

// Deleting a managed cluster is a long-running operation: ARM answers the DELETE with 202 and an
// Azure-AsyncOperation status monitor (ManagedClusters_Delete in the AKS REST API), then the deletion takes
// minutes. A bot that dies while it waits must not send a second DELETE when it comes back, so the SDK poller's
// serialized state (which carries that URL) is handed to the caller to persist BEFORE the wait; a restarted
// caller passes it back and the SDK's own restorePoller polls the same operation. No hand-written polling.

/** A long-running operation as the caller persists it (the engine's journal: core/engine/journal.ts). */
export interface PersistedOperation {
  readonly url: string;
  readonly state: string;
}

/** Where the operation is remembered across a crash; `record` resolves once it is durable. */
export interface OperationSlot {
  readonly recorded: PersistedOperation | undefined;
  record(op: PersistedOperation): Promise<void>;
}

export interface ClusterDeleteOptions {
  readonly environment: string;
  readonly log: Logger;
  readonly signal?: AbortSignal;
  /** Between polls when Azure sends no Retry-After; the SDK's default (2 s) otherwise. */
  readonly pollIntervalMs?: number;
}

/** The status monitor URL in a serialized core-lro poller state ({"state": {"config": {"operationLocation"}}}). */
export function operationUrlOf(serialized: string): string | undefined {
  try {
    const parsed = JSON.parse(serialized) as { state?: { config?: { operationLocation?: unknown } } };
    const url = parsed.state?.config?.operationLocation;
    return typeof url === 'string' ? url : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Ensures the managed cluster is gone: resumes the recorded delete if there is one, otherwise sends one DELETE
 * (204 "does not exist" counts as done), records the operation, and waits for it. Returns the status monitor URL
 * it waited on (undefined when there was nothing to delete).
 */
export async function ensureClusterDeleted(clients: ArmClients, resourceGroup: string, name: string, slot: OperationSlot, o: ClusterDeleteOptions): Promise<{ operationUrl: string | undefined }> {
  const op = 'DELETE managed cluster';
  const pollOptions = { ...(o.signal ? { abortSignal: o.signal } : {}), ...(o.pollIntervalMs !== undefined ? { updateIntervalInMs: o.pollIntervalMs } : {}) };
  try {
    if (slot.recorded) {
      o.log.info({ environment: o.environment, cluster: name, operation: slot.recorded.url }, 'resuming the cluster delete the interrupted run started');
      try {
        await restorePoller(clients.aks, slot.recorded.state, clients.aks.managedClusters.delete, pollOptions).pollUntilDone(o.signal ? { abortSignal: o.signal } : undefined);
        return { operationUrl: slot.recorded.url };
      } catch (err) {
        // ARM forgets finished operations after a while: a monitor that is gone says nothing, so look at the cluster.
        if (statusOf(err) !== 404) throw err;
        o.log.warn({ environment: o.environment, cluster: name, operation: slot.recorded.url }, 'the recorded operation is gone; checking the cluster itself');
      }
    }
    // The poller is a thenable: it is never returned from here or awaited itself, which would start it polling.
    const poller = clients.aks.managedClusters.delete(resourceGroup, name, pollOptions);
    await poller.submitted();
    if (poller.isDone) return { operationUrl: undefined }; // 204: the cluster does not exist
    const state = await poller.serialize();
    const url = operationUrlOf(state);
    if (url) await slot.record({ url, state });
    await poller.pollUntilDone(o.signal ? { abortSignal: o.signal } : undefined);
    o.log.info({ environment: o.environment, cluster: name }, 'cluster deleted');
    return { operationUrl: url };
  } catch (err) {
    if (o.signal?.aborted) throw err;
    throw toAzureError(err, op, o.environment);
  }
}
