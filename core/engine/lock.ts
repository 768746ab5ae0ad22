import { hostname } from 'node:os';
import { AppError } from '../errors/app-error.js';
import type { Logger } from '../log/logger.js';

/**
 * The environment lock: one lifecycle operation (backup, restore, cost apply, teardown, recreate) per environment
 * at a time, whoever starts it — chat, the CLI, the scheduler or a pipeline on another host. Two implementations
 * share this interface: a Blob lease in the environment's durable storage account (lock-blob.ts), seen by every
 * host that can reach the account, and the store's SQLite leases (lock-sqlite.ts) for an environment without one.
 */
export interface EnvironmentLock {
  /** Takes the lock for `holder` and keeps it renewed; refuses with AKS_ENVIRONMENT_BUSY naming the current holder. */
  acquire(environment: string, holder: LockHolder): Promise<LockHandle>;
  /** Who holds the lock now; undefined when it is free (or its holder stopped renewing and it lapsed). */
  inspect(environment: string): Promise<HeldLock | undefined>;
  /** Frees a stuck lock whoever holds it (the holder's handle then reports the loss); returns whom it freed. */
  breakLock(environment: string): Promise<HeldLock | undefined>;
}

export interface LockHolder {
  readonly runId?: number;
  /** The command path ("backup run", "cost apply"). */
  readonly command: string;
  /** Who asked for it (a chat user, the CLI user, "scheduler:nightly"). */
  readonly actor: string;
  /** os.hostname() of the process that took it. */
  readonly host: string;
  /** When the work was asked for (a run's creation time), so a queued run and its executor name one holder. */
  readonly startedAt: Date;
}

export interface HeldLock {
  readonly environment: string;
  /** "run 42 (teardown by alice)": how runs name their holder (holderLabel). */
  readonly label: string;
  readonly host?: string;
  readonly startedAt?: Date;
  /** When it frees itself unless renewed, where the backend tells (a Blob lease does not). */
  readonly expiresAt?: Date;
  readonly backend: 'blob' | 'sqlite';
}

export interface LockHandle {
  readonly environment: string;
  readonly holder: LockHolder;
  /** Fires (with AKS_ENVIRONMENT_LOCK_LOST) when the lock is lost while held: broken, or not renewed in time. */
  readonly signal: AbortSignal;
  /** Stops renewing but keeps the lock until it lapses (a queued run keeps the environment for its executor). */
  stopRenewing(): void;
  /** Stops renewing and frees the lock. Never throws: a failed release lapses on its own. */
  release(): Promise<void>;
}

/** The name a holder goes by in messages and in the SQLite lease: "run 42 (teardown by alice)". */
export function holderLabel(h: Pick<LockHolder, 'runId' | 'command' | 'actor'>): string {
  return `${h.runId !== undefined ? `run ${h.runId} ` : ''}(${h.command} by ${h.actor})`;
}

/** A holder on this host. */
export function localHolder(h: Pick<LockHolder, 'runId' | 'command' | 'actor' | 'startedAt'>): LockHolder {
  return { ...h, host: hostname() };
}

const minute = (d: Date) => d.toISOString().replace(/:\d\d\.\d{3}Z$/, 'Z');

/** "on host bot-1, started 2026-11-26T02:00Z": where and since when, as far as the backend knows. */
export function describeWhere(h: HeldLock): string {
  return [h.host ? `on host ${h.host}` : '', h.startedAt ? `started ${minute(h.startedAt)}` : ''].filter(Boolean).join(', ');
}

/** "run 42 (teardown by alice) on host bot-1, started 2026-11-26T02:00Z". */
export function describeHeld(h: HeldLock): string {
  const where = describeWhere(h);
  return where ? `${h.label} ${where}` : h.label;
}

/** The refusal of a held lock, naming its holder and when a dead holder's lock frees itself. */
export function busyError(environment: string, held: HeldLock | undefined): AppError {
  // both backends' locks last at most a minute past the last renewal
  const until = held?.expiresAt ? `at ${held.expiresAt.toISOString()}` : 'within a minute of its last renewal';
  return new AppError('AKS_ENVIRONMENT_BUSY', { environment, holder: held?.label ?? 'another run', where: (held && describeWhere(held)) || 'just now', until });
}

/**
 * Renews a held lock every `everyMs` until stopped. A renewal that answers 'lost' (someone else holds it, or it
 * was broken) aborts the handle's signal at once; renewals that fail (the storage does not answer) abort it once
 * no renewal succeeded for `ttlMs`, because by then the lock may be someone else's.
 */
export function renewingHandle(o: {
  environment: string;
  holder: LockHolder;
  everyMs: number;
  ttlMs: number;
  now: () => Date;
  log: Logger;
  renew: () => Promise<'ok' | 'lost'>;
  release: () => Promise<void>;
}): LockHandle {
  const controller = new AbortController();
  const label = holderLabel(o.holder);
  let lastOk = o.now().getTime();
  let busy = false;
  const lost = (reason: string) => {
    if (controller.signal.aborted) return;
    clearInterval(timer);
    o.log.error({ environment: o.environment, holder: label, reason }, 'environment lock lost while the work goes on');
    controller.abort(new AppError('AKS_ENVIRONMENT_LOCK_LOST', { environment: o.environment, holder: label, reason }));
  };
  const timer = setInterval(() => {
    if (busy) return; // a renewal still waiting for the storage: do not pile up requests
    busy = true;
    o.renew()
      .then((r) => {
        if (r === 'lost') lost('another holder has it, or it was broken');
        else lastOk = o.now().getTime();
      })
      .catch((err: unknown) => {
        o.log.warn({ err, environment: o.environment }, 'environment lock renewal failed');
        if (o.now().getTime() - lastOk >= o.ttlMs) lost('no renewal succeeded within the lock time');
      })
      .finally(() => (busy = false));
  }, o.everyMs);
  timer.unref();
  let released = false;
  return {
    environment: o.environment,
    holder: o.holder,
    signal: controller.signal,
    stopRenewing: () => clearInterval(timer),
    release: async () => {
      clearInterval(timer);
      if (released) return;
      released = true;
      await o.release().catch((err: unknown) => o.log.warn({ err, environment: o.environment }, 'environment lock release failed'));
    },
  };
}
