import type { Logger } from '../log/logger.js';
import type { LeaseStore } from '../store/types.js';
import { busyError, holderLabel, renewingHandle, type EnvironmentLock, type HeldLock, type LockHolder } from './lock.js';

/** The store lease of an environment's lock; its holder is the holder's label ("run 42 (teardown by alice)"). */
export const lifecycleLease = (environment: string): string => `lifecycle:${environment}`;
/** Beside it, the holder's host and start time (a lease row holds one string; the label stays the identity). */
const holderDetails = (environment: string): string => `lifecycle:${environment}:holder`;

/** A holder that stops renewing (crashed, killed) loses the lock this long after its last renewal… */
export const SQLITE_LOCK_TTL_MS = 60_000;
/** …and a live one renews three times within it, so one slow renewal does not cost the lock. */
export const SQLITE_LOCK_RENEW_MS = 20_000;

/**
 * The environment lock in the store's leases: for environments without a storage account (the embedded
 * default). Only processes sharing the store's file see it. Identity is the holder's label: a queued run and the
 * executor that runs it later name the same run, so the executor takes over the lock the queue kept.
 */
export function sqliteEnvironmentLock(o: { store: LeaseStore; log: Logger; now: () => Date; ttlMs?: number; renewEveryMs?: number }): EnvironmentLock {
  const ttlMs = o.ttlMs ?? SQLITE_LOCK_TTL_MS;
  const everyMs = o.renewEveryMs ?? SQLITE_LOCK_RENEW_MS;

  const inspect = async (environment: string): Promise<HeldLock | undefined> => {
    const lease = await o.store.getLease(lifecycleLease(environment));
    if (!lease || lease.expiresAt.getTime() <= o.now().getTime()) return undefined;
    const details = parseDetails((await o.store.getLease(holderDetails(environment)))?.holder, lease.holder);
    return { environment, label: lease.holder, startedAt: details?.startedAt ?? lease.acquiredAt, expiresAt: lease.expiresAt, backend: 'sqlite', ...(details ? { host: details.host } : {}) };
  };

  const writeDetails = async (environment: string, holder: LockHolder): Promise<void> => {
    const name = holderDetails(environment);
    const text = detailsText(holder);
    // under the lock only its holder writes this row; a previous holder's row may not have lapsed yet
    const old = await o.store.getLease(name);
    if (old && old.holder !== text) await o.store.releaseLease(name, old.holder);
    await o.store.acquireLease(name, text, ttlMs, o.now());
  };

  return {
    inspect,
    async acquire(environment, holder) {
      const label = holderLabel(holder);
      if (!(await o.store.acquireLease(lifecycleLease(environment), label, ttlMs, o.now()))) {
        const held = await inspect(environment);
        throw busyError(environment, held);
      }
      await writeDetails(environment, holder);
      return renewingHandle({
        environment,
        holder,
        everyMs,
        ttlMs,
        now: o.now,
        log: o.log,
        // renew only a lease that is still ours: re-acquiring a broken (deleted) one would silently take it back
        renew: async () => {
          const lease = await o.store.getLease(lifecycleLease(environment));
          if (!lease || lease.holder !== label || lease.expiresAt.getTime() <= o.now().getTime()) return 'lost';
          if (!(await o.store.acquireLease(lifecycleLease(environment), label, ttlMs, o.now()))) return 'lost';
          await writeDetails(environment, holder);
          return 'ok';
        },
        release: async () => {
          await o.store.releaseLease(lifecycleLease(environment), label);
          await o.store.releaseLease(holderDetails(environment), detailsText(holder));
        },
      });
    },
    async breakLock(environment) {
      const held = await inspect(environment);
      const lease = await o.store.getLease(lifecycleLease(environment));
      if (lease) await o.store.releaseLease(lifecycleLease(environment), lease.holder);
      const details = await o.store.getLease(holderDetails(environment));
      if (details) await o.store.releaseLease(holderDetails(environment), details.holder);
      return held;
    },
  };
}

function detailsText(holder: LockHolder): string {
  return JSON.stringify({ label: holderLabel(holder), host: holder.host, startedAt: holder.startedAt.toISOString() });
}

function parseDetails(text: string | undefined, label: string): { host: string; startedAt: Date } | undefined {
  if (!text) return undefined;
  try {
    const d = JSON.parse(text) as { label?: unknown; host?: unknown; startedAt?: unknown };
    if (d.label !== label || typeof d.host !== 'string' || typeof d.startedAt !== 'string') return undefined;
    const startedAt = new Date(d.startedAt);
    return Number.isNaN(startedAt.getTime()) ? undefined : { host: d.host, startedAt };
  } catch {
    return undefined;
  }
}
