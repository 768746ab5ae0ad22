import { createHash } from 'node:crypto';
import type { BlobClient, ContainerClient } from '@azure/storage-blob';
import { AppError } from '../errors/app-error.js';
import type { Logger } from '../log/logger.js';
import { busyError, holderLabel, renewingHandle, type EnvironmentLock, type HeldLock, type LockHolder } from './lock.js';

/** Azure's longest finite lease: a holder that dies (kill -9, lost host) frees the environment within it. */
export const BLOB_LEASE_SECONDS = 60;
/** Three renewals per lease, so one slow or failed request does not cost the lock. */
export const BLOB_LEASE_RENEW_MS = 20_000;

/** The lock blob of an environment, beside its backup sets (a name no backup set folder can have: see read-set.ts). */
export const lockBlobName = (environment: string): string => `locks/${environment}.lock`;

/**
 * The environment lock as a lease on a blob in the environment's durable storage account, so the bot, an
 * operator's CLI and a pipeline on other hosts all see it. The lease id is derived from the environment and the
 * holder (label, host, start time): the executor of a queued run re-acquires the lease the queue kept, and two
 * hosts whose stores both have a "run 1" still differ. The blob's metadata names the holder for everyone else.
 *
 * `leaseSeconds` is 15–60 (Azure's finite range); tests use 15 to watch expiry and renewal in seconds.
 */
export function blobEnvironmentLock(o: {
  container: (environment: string) => Promise<ContainerClient>;
  log: Logger;
  now: () => Date;
  leaseSeconds?: number;
  renewEveryMs?: number;
}): EnvironmentLock {
  const leaseSeconds = o.leaseSeconds ?? BLOB_LEASE_SECONDS;
  if (!Number.isInteger(leaseSeconds) || leaseSeconds < 15 || leaseSeconds > 60) throw new AppError('AKS_INTERNAL', { reference: 'blob-lease-seconds' });
  const everyMs = o.renewEveryMs ?? BLOB_LEASE_RENEW_MS;

  const blobOf = async (environment: string): Promise<BlobClient> => {
    try {
      return (await o.container(environment)).getBlobClient(lockBlobName(environment));
    } catch (err) {
      throw unavailable(environment, err);
    }
  };

  const inspect = async (environment: string): Promise<HeldLock | undefined> => {
    const blob = await blobOf(environment);
    let props;
    try {
      props = await blob.getProperties();
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw unavailable(environment, err);
    }
    if (props.leaseState !== 'leased' && props.leaseState !== 'breaking') return undefined;
    return { environment, backend: 'blob', ...fromMetadata(props.metadata ?? {}) };
  };

  return {
    inspect,
    async acquire(environment, holder) {
      const blob = await blobOf(environment);
      const leaseId = leaseIdOf(environment, holder);
      const lease = blob.getBlobLeaseClient(leaseId);
      try {
        await ensureBlob(blob);
        await lease.acquireLease(leaseSeconds);
      } catch (err) {
        if (statusOf(err) === 409) throw busyError(environment, await inspect(environment).catch(() => undefined));
        throw unavailable(environment, err);
      }
      try {
        await blob.setMetadata(toMetadata(holder), { conditions: { leaseId } });
      } catch (err) {
        await lease.releaseLease().catch(() => undefined);
        throw unavailable(environment, err);
      }
      return renewingHandle({
        environment,
        holder,
        everyMs,
        ttlMs: leaseSeconds * 1000,
        now: o.now,
        log: o.log,
        renew: async () => {
          try {
            await lease.renewLease();
            return 'ok';
          } catch (err) {
            // 409: the lease id no longer matches, the lease was broken or someone else leased the blob
            if (statusOf(err) === 409 || statusOf(err) === 412) return 'lost';
            throw err;
          }
        },
        release: async () => {
          // the metadata names the holder only while it holds the lease
          await blob.setMetadata({}, { conditions: { leaseId } });
          await lease.releaseLease();
        },
      });
    },
    async breakLock(environment) {
      const held = await inspect(environment);
      if (!held) return undefined;
      const blob = await blobOf(environment);
      try {
        await blob.getBlobLeaseClient().breakLease(0);
      } catch (err) {
        // released or lapsed meanwhile: nothing left to break
        if (statusOf(err) === 409) return undefined;
        throw unavailable(environment, err);
      }
      return held;
    },
  };
}

/** Creates the empty lock blob once; another process creating it at the same moment is fine. */
async function ensureBlob(blob: BlobClient): Promise<void> {
  if (await blob.exists()) return;
  try {
    await blob.getBlockBlobClient().upload('', 0, { conditions: { ifNoneMatch: '*' } });
  } catch (err) {
    if (statusOf(err) !== 409 && statusOf(err) !== 412) throw err;
  }
}

/** A GUID (the form Azure wants for a proposed lease id) that only this holder of this environment computes. */
function leaseIdOf(environment: string, h: LockHolder): string {
  const hex = createHash('sha256').update(JSON.stringify([environment, holderLabel(h), h.host, h.startedAt.toISOString()])).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

// metadata values are HTTP header values: user names may not be ASCII, so each is URI-encoded
function toMetadata(h: LockHolder): Record<string, string> {
  return {
    label: encodeURIComponent(holderLabel(h)),
    host: encodeURIComponent(h.host),
    startedat: h.startedAt.toISOString(),
  };
}

function fromMetadata(m: Record<string, string>): Pick<HeldLock, 'label' | 'host' | 'startedAt'> {
  const decode = (v: string | undefined) => {
    try {
      return v === undefined ? undefined : decodeURIComponent(v);
    } catch {
      return undefined;
    }
  };
  const label = decode(m.label);
  const host = decode(m.host);
  const startedAt = m.startedat ? new Date(m.startedat) : undefined;
  return {
    // a holder between taking the lease and writing its name, or one that wrote something else
    label: label ?? 'another process (its name is not written yet)',
    ...(host ? { host } : {}),
    ...(startedAt && !Number.isNaN(startedAt.getTime()) ? { startedAt } : {}),
  };
}

function statusOf(err: unknown): number | undefined {
  const s = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof s === 'number' ? s : undefined;
}

function unavailable(environment: string, err: unknown): AppError {
  if (err instanceof AppError) return err;
  const reason = (err as { code?: unknown } | null)?.code ?? (err instanceof Error ? err.message : String(err));
  return new AppError('AKS_ENVIRONMENT_LOCK_UNAVAILABLE', { environment, reason: String(reason).slice(0, 200) }, { cause: err });
}
