import { ComputeManagementClient, restorePoller } from '@azure/arm-compute';
import { z } from 'zod';
import { AppError } from '../../errors/app-error.js';
import type { Logger } from '../../log/logger.js';
import { armClientOptions, type ArmClientOptions } from './clients.js';
import { operationUrlOf, type OperationSlot } from './cluster-delete.js';
import { statusOf, toAzureError } from './errors.js';
import { parseResourceId } from './inventory.js';

// Disk snapshots and disks made from them (Microsoft.Compute, DiskRP 2025-01-02, what @azure/arm-compute sends).
// Creating either is a long-running PUT: the SDK poller's serialized state (with the Azure-AsyncOperation URL) is
// handed to the caller to persist BEFORE the wait, and a restarted caller resumes it with the SDK's restorePoller,
// so a crash never causes a second PUT. Every create is an "ensure": a resource of that name that exists and
// Succeeded is returned as it is. See docs/snapshots.md for the limits this relies on.

export interface ManagedDisk {
  readonly id: string;
  readonly name: string;
  readonly resourceGroup: string;
  readonly location: string;
  readonly zones: readonly string[];
  readonly sku: string | undefined;
  readonly sizeGb: number | undefined;
  readonly provisioningState: string | undefined;
  readonly sourceResourceId: string | undefined;
  readonly tags: Readonly<Record<string, string>>;
}

export interface DiskSnapshot {
  readonly id: string;
  readonly name: string;
  readonly resourceGroup: string;
  readonly location: string;
  readonly sku: string | undefined;
  readonly sizeGb: number | undefined;
  readonly incremental: boolean;
  readonly provisioningState: string | undefined;
  readonly timeCreated: Date | undefined;
  readonly sourceResourceId: string | undefined;
  readonly tags: Readonly<Record<string, string>>;
}

export interface SnapshotSpec {
  readonly sourceDiskId: string;
  readonly location: string;
  readonly tags: Readonly<Record<string, string>>;
}

export interface DiskFromSnapshotSpec {
  readonly snapshotId: string;
  readonly location: string;
  /** A zone ("1") for a zonal disk; absent for a regional (or ZRS) one. */
  readonly zone?: string | undefined;
  readonly sku: string;
  readonly tags: Readonly<Record<string, string>>;
}

export interface LroOptions {
  readonly signal?: AbortSignal;
}

/** What the snapshot and restore work needs from Microsoft.Compute, with no SDK type in sight. */
export interface DiskSnapshots {
  /** undefined when the disk does not exist (404). */
  getDisk(id: string): Promise<ManagedDisk | undefined>;
  getSnapshot(resourceGroup: string, name: string): Promise<DiskSnapshot | undefined>;
  listSnapshots(resourceGroup: string): Promise<DiskSnapshot[]>;
  /** An incremental snapshot of the disk: created once, resumed after a crash, returned as it is when it exists. */
  ensureSnapshot(resourceGroup: string, name: string, spec: SnapshotSpec, slot: OperationSlot, o?: LroOptions): Promise<DiskSnapshot>;
  /** A managed disk copied from a snapshot, with the same ensure and resume semantics. */
  ensureDiskFromSnapshot(resourceGroup: string, name: string, spec: DiskFromSnapshotSpec, slot: OperationSlot, o?: LroOptions): Promise<ManagedDisk>;
  /** Deleting what is gone is done. */
  deleteSnapshot(resourceGroup: string, name: string, o?: LroOptions): Promise<void>;
}

export interface DiskSnapshotsDeps {
  readonly compute: ComputeManagementClient;
  readonly environment: string;
  readonly log: Logger;
  /** Between polls when Azure sends no Retry-After; the SDK's default otherwise. */
  readonly pollIntervalMs?: number;
}

/** The longest throttling wait honoured: Azure's snapshot limit is counted per 5 minutes (docs/snapshots.md). */
export const MAX_RETRY_AFTER_SECONDS = 300;

/**
 * The Compute client with the bot's options. Its pipeline retries a 429 after the Retry-After Azure sends, at most
 * retry.maxRetries times; a policy next to the wire caps each wait at maxRetryAfterSeconds, so a throttled run
 * waits a bounded time in all, not whatever a header says.
 */
export function createComputeClient(opts: ArmClientOptions, maxRetryAfterSeconds = MAX_RETRY_AFTER_SECONDS): ComputeManagementClient {
  const client = new ComputeManagementClient(opts.credential, opts.subscriptionId, armClientOptions(opts));
  client.pipeline.addPolicy(
    {
      name: 'aks-bot-retry-after-cap',
      async sendRequest(request, next) {
        const response = await next(request);
        if (response.status !== 429) return response;
        const seconds = Number(response.headers.get('retry-after'));
        const ms = Number(response.headers.get('retry-after-ms') ?? response.headers.get('x-ms-retry-after-ms'));
        const date = Date.parse(response.headers.get('retry-after') ?? '');
        const wait = Number.isFinite(ms) && ms > 0 ? ms / 1000 : Number.isFinite(seconds) ? seconds : Number.isFinite(date) ? (date - Date.now()) / 1000 : 0;
        if (wait > maxRetryAfterSeconds) {
          response.headers.delete('retry-after-ms');
          response.headers.delete('x-ms-retry-after-ms');
          response.headers.set('retry-after', String(maxRetryAfterSeconds));
        }
        return response;
      },
    },
    { afterPhase: 'Retry' },
  );
  return client;
}

const tags = z.record(z.string(), z.string()).nullish();
const date = z.date().refine((d) => !Number.isNaN(d.getTime()), 'an invalid date').optional();
const diskSchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  location: z.string().min(1),
  zones: z.array(z.string()).nullish(),
  tags,
  sku: z.object({ name: z.string().optional() }).nullish(),
  diskSizeGB: z.number().nonnegative().nullish(),
  provisioningState: z.string().nullish(),
  creationData: z.object({ sourceResourceId: z.string().nullish() }).nullish(),
});
const snapshotSchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  location: z.string().min(1),
  tags,
  sku: z.object({ name: z.string().optional() }).nullish(),
  diskSizeGB: z.number().nonnegative().nullish(),
  incremental: z.boolean().nullish(),
  provisioningState: z.string().nullish(),
  timeCreated: date,
  creationData: z.object({ sourceResourceId: z.string().nullish() }).nullish(),
});

function parse<T>(schema: z.ZodType<T>, value: unknown, operation: string): T {
  const r = schema.safeParse(value);
  if (!r.success) {
    const issues = r.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new AppError('AKS_AZURE_RESPONSE_INVALID', { operation, issues });
  }
  return r.data;
}

const rgOf = (id: string) => parseResourceId(id)?.resourceGroup ?? '';

function toDisk(raw: unknown, op: string): ManagedDisk {
  const d = parse(diskSchema, raw, op);
  return {
    id: d.id,
    name: d.name,
    resourceGroup: rgOf(d.id),
    location: d.location,
    zones: d.zones ?? [],
    sku: d.sku?.name,
    sizeGb: d.diskSizeGB ?? undefined,
    provisioningState: d.provisioningState ?? undefined,
    sourceResourceId: d.creationData?.sourceResourceId ?? undefined,
    tags: d.tags ?? {},
  };
}

function toSnapshot(raw: unknown, op: string): DiskSnapshot {
  const s = parse(snapshotSchema, raw, op);
  return {
    id: s.id,
    name: s.name,
    resourceGroup: rgOf(s.id),
    location: s.location,
    sku: s.sku?.name,
    sizeGb: s.diskSizeGB ?? undefined,
    incremental: s.incremental ?? false,
    provisioningState: s.provisioningState ?? undefined,
    timeCreated: s.timeCreated,
    sourceResourceId: s.creationData?.sourceResourceId ?? undefined,
    tags: s.tags ?? {},
  };
}

/** The states of a resource whose last operation is still running (ARM's provisioningState). */
const IN_PROGRESS = new Set(['creating', 'updating', 'accepted', 'pending', 'inprogress']);

/** The poller surface used here (core-lro PollerLike): one type for both operations. */
interface Poller<T> {
  submitted(): Promise<void>;
  readonly isDone: boolean;
  serialize(): Promise<string>;
  pollUntilDone(o?: { abortSignal?: AbortSignal }): Promise<T>;
}

export function createDiskSnapshots(deps: DiskSnapshotsDeps): DiskSnapshots {
  const { compute, environment, log } = deps;
  const lro = deps.pollIntervalMs !== undefined ? { updateIntervalInMs: deps.pollIntervalMs } : {};
  const withSignal = (o?: LroOptions) => (o?.signal ? { abortSignal: o.signal } : {});

  async function call<T>(operation: string, fn: () => Promise<T>, o?: LroOptions): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (o?.signal?.aborted) throw err;
      if (err instanceof TypeError || err instanceof SyntaxError) {
        throw new AppError('AKS_AZURE_RESPONSE_INVALID', { operation, issues: err.message }, { cause: err });
      }
      throw toAzureError(err, operation, environment);
    }
  }

  async function getOrUndefined<T>(operation: string, fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      return call(operation, () => Promise.reject(err as Error));
    }
  }

  const getSnapshot = (rg: string, name: string) => {
    const op = `GET snapshot ${rg}/${name}`;
    return getOrUndefined(op, async () => toSnapshot(await compute.snapshots.get(rg, name), op));
  };
  const getDiskIn = (rg: string, name: string) => {
    const op = `GET disk ${rg}/${name}`;
    return getOrUndefined(op, async () => toDisk(await compute.disks.get(rg, name), op));
  };

  /**
   * Waits for an operation. One that ends Failed comes back from core-lro as a plain Error whose text carries Azure's
   * error code and message (no status, no code field); that text is shown as it is, nothing is decided on it.
   */
  async function waitFor(poller: Poller<unknown>, operation: string, o: LroOptions | undefined): Promise<void> {
    try {
      await poller.pollUntilDone(withSignal(o));
    } catch (err) {
      if (o?.signal?.aborted || statusOf(err) !== undefined || !(err instanceof Error) || err instanceof TypeError || err instanceof SyntaxError) throw err;
      throw new AppError('AKS_AZURE_REQUEST_FAILED', { operation, status: '200, operation Failed', azureCode: err.message.replace(/^The long-running operation has failed\.?\s*/, '') || 'no error code' }, { cause: err });
    }
  }

  /**
   * The shared ensure: resume the recorded operation; else take what exists and Succeeded; wait out one that is
   * still being created by an attempt that died before it recorded its operation; else PUT once, record, wait.
   */
  async function ensure<T extends { provisioningState: string | undefined }>(
    what: string,
    read: () => Promise<T | undefined>,
    start: () => Poller<unknown>,
    restore: (state: string) => Poller<unknown>,
    slot: OperationSlot,
    o: LroOptions | undefined,
  ): Promise<T> {
    const operation = `PUT ${what}`;
    return call(
      operation,
      async () => {
        if (slot.recorded) {
          log.info({ environment, resource: what, operation: slot.recorded.url }, 'resuming the operation an interrupted run started');
          try {
            await waitFor(restore(slot.recorded.state), operation, o);
          } catch (err) {
            // ARM forgets finished operations after a while: a monitor that is gone says nothing, so read the resource.
            if (statusOf(err) !== 404) throw err;
          }
        }
        for (let i = 0; ; i++) {
          const found = await read();
          const state = found?.provisioningState?.toLowerCase();
          if (found && state === 'succeeded') return found;
          if (!found || !state || !IN_PROGRESS.has(state) || i >= 60) break;
          // created by an attempt that died between the PUT and recording it: wait rather than PUT over it
          await new Promise((r) => setTimeout(r, deps.pollIntervalMs ?? 5000));
          o?.signal?.throwIfAborted();
        }
        // The poller is a thenable: it is never returned from here or awaited itself, which would start it polling.
        const poller = start();
        await poller.submitted();
        if (!poller.isDone) {
          const state = await poller.serialize();
          const url = operationUrlOf(state);
          if (url) await slot.record({ url, state });
        }
        await waitFor(poller, operation, o);
        const done = await read();
        if (!done) throw new AppError('AKS_AZURE_RESPONSE_INVALID', { operation, issues: `${what} is not there after its operation succeeded` });
        if (done.provisioningState?.toLowerCase() !== 'succeeded') {
          throw new AppError('AKS_AZURE_REQUEST_FAILED', { operation, status: 200, azureCode: `provisioningState ${done.provisioningState ?? 'unknown'}` });
        }
        return done;
      },
      o,
    );
  }

  return {
    async getDisk(id) {
      const p = parseResourceId(id);
      if (!p || p.type !== 'microsoft.compute/disks') {
        throw new AppError('AKS_AZURE_RESPONSE_INVALID', { operation: 'GET disk', issues: `${id} is not the id of a managed disk` });
      }
      return getDiskIn(p.resourceGroup, p.name);
    },
    getSnapshot,
    async listSnapshots(rg) {
      const op = `LIST snapshots of ${rg}`;
      return call(op, async () => {
        const out: DiskSnapshot[] = [];
        for await (const s of compute.snapshots.listByResourceGroup(rg)) out.push(toSnapshot(s, op));
        return out;
      });
    },
    ensureSnapshot(rg, name, spec, slot, o) {
      const body = {
        location: spec.location,
        tags: { ...spec.tags },
        creationData: { createOption: 'Copy' as const, sourceResourceId: spec.sourceDiskId },
        incremental: true,
      };
      return ensure(
        `snapshot ${rg}/${name}`,
        () => getSnapshot(rg, name),
        () => compute.snapshots.createOrUpdate(rg, name, body, { ...lro, ...withSignal(o) }),
        (state) => restorePoller(compute, state, compute.snapshots.createOrUpdate, { ...lro, ...withSignal(o) }),
        slot,
        o,
      );
    },
    ensureDiskFromSnapshot(rg, name, spec, slot, o) {
      const body = {
        location: spec.location,
        tags: { ...spec.tags },
        ...(spec.zone ? { zones: [spec.zone] } : {}),
        sku: { name: spec.sku as NonNullable<Parameters<typeof compute.disks.createOrUpdate>[2]['sku']>['name'] },
        creationData: { createOption: 'Copy' as const, sourceResourceId: spec.snapshotId },
      };
      return ensure(
        `disk ${rg}/${name}`,
        () => getDiskIn(rg, name),
        () => compute.disks.createOrUpdate(rg, name, body, { ...lro, ...withSignal(o) }),
        (state) => restorePoller(compute, state, compute.disks.createOrUpdate, { ...lro, ...withSignal(o) }),
        slot,
        o,
      );
    },
    async deleteSnapshot(rg, name, o) {
      await call(`DELETE snapshot ${rg}/${name}`, () => compute.snapshots.delete(rg, name, { ...lro, ...withSignal(o) }).pollUntilDone(withSignal(o)), o);
    },
  };
}
