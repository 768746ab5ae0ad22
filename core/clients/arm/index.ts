import { readFileSync } from 'node:fs';
import type { EnvironmentConfig } from '../../config/schema.js';
import type { Logger } from '../../log/logger.js';
import { createArmClients, type ArmClientOptions, type TokenCredential } from './clients.js';
import { createClusterWriter, type ClusterWriter } from './cluster-writes.js';
import { createComputeClient, createDiskSnapshots, type DiskSnapshots } from './compute.js';
import { createAzureInventory, createInventoryClients, type AzureInventory } from './inventory.js';
import { createAzureReader } from './reader.js';
import type { AzureReader } from './types.js';

/** Everything the bot reads and changes in Azure Resource Manager for one environment, over one credential. */
export interface ArmAccess {
  readonly subscriptionId: string;
  readonly reader: AzureReader;
  readonly writer: ClusterWriter;
  readonly inventory: AzureInventory;
  /** Disk snapshots and disks restored from them (Microsoft.Compute). */
  readonly compute: DiskSnapshots;
}

export interface ArmAccessOptions {
  readonly retry?: ArmClientOptions['retry'];
  /** Interval between polls of a long-running operation without Retry-After; tests make it short. */
  readonly pollIntervalMs?: number;
}

export function createArmAccess(environment: string, env: EnvironmentConfig, deps: { credential: TokenCredential; log: Logger; options?: ArmAccessOptions }): ArmAccess {
  const opts: ArmClientOptions = {
    subscriptionId: env.azure.subscriptionId,
    credential: deps.credential,
    ...(env.azure.armEndpoint ? { endpoint: env.azure.armEndpoint.replace(/\/$/, '') } : {}),
    ...(env.azure.armCaFile ? { ca: readFileSync(env.azure.armCaFile, 'utf8') } : {}),
    ...(deps.options?.retry ? { retry: deps.options.retry } : {}),
  };
  const clients = createArmClients(opts);
  const { log } = deps;
  const poll = deps.options?.pollIntervalMs;
  return {
    subscriptionId: env.azure.subscriptionId,
    reader: createAzureReader({ clients, environment, log }),
    writer: createClusterWriter({ clients, environment, log }),
    inventory: createAzureInventory({ clients: createInventoryClients(opts), environment, log, ...(poll !== undefined ? { pollIntervalMs: poll } : {}) }),
    // snapshots are throttled per disk (docs/snapshots.md): the configured bound of 429 retries applies to them
    compute: createDiskSnapshots({ compute: createComputeClient({ ...opts, retry: { ...opts.retry, maxRetries: env.snapshots.throttleRetries } }), environment, log, ...(poll !== undefined ? { pollIntervalMs: poll } : {}) }),
  };
}
