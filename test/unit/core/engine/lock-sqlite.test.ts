import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { lifecycleLease, SQLITE_LOCK_RENEW_MS, SQLITE_LOCK_TTL_MS, sqliteEnvironmentLock } from '../../../../core/engine/lock-sqlite.js';
import type { EnvironmentLock, LockHolder } from '../../../../core/engine/lock.js';
import { AppError } from '../../../../core/errors/app-error.js';
import { createLogger } from '../../../../core/log/logger.js';
import { Redactor } from '../../../../core/log/redact.js';
import { openSqliteStore } from '../../../../core/store/sqlite.js';
import type { Store } from '../../../../core/store/types.js';
import { MemoryStream } from '../../../helpers/deps.js';

const T0 = Date.parse('2026-11-26T02:00:00Z');

const holder = (o: Partial<LockHolder> = {}): LockHolder => ({ runId: 42, command: 'teardown', actor: 'alice', host: 'bot-1', startedAt: new Date(T0), ...o });

async function refusal(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof AppError)) throw new Error(`expected an AppError, got ${String(err)}`);
  return err;
}

describe('the SQLite environment lock', () => {
  let t: number;
  let store: Store;
  let lock: EnvironmentLock;
  let logs: MemoryStream;

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    t = T0;
    store = openSqliteStore({ path: ':memory:', clock: () => new Date(t) });
    logs = new MemoryStream();
    lock = sqliteEnvironmentLock({ store, log: createLogger({ level: 'debug', redactor: new Redactor(), destination: logs }), now: () => new Date(t) });
  });

  afterEach(async () => {
    vi.useRealTimers();
    await store.close();
  });

  it('renews within a minute: a holder that stops renewing loses it within one renewal interval plus a margin', () => {
    expect(SQLITE_LOCK_TTL_MS).toBe(60_000);
    expect(SQLITE_LOCK_RENEW_MS).toBe(20_000);
  });

  it('refuses a second holder with AKS_ENVIRONMENT_BUSY naming the run, command, actor, host and start; another environment is free', async () => {
    const h = await lock.acquire('prod', holder());
    const err = await refusal(lock.acquire('prod', holder({ runId: 43, command: 'backup run', actor: 'bob', host: 'ci-runner-7' })));
    expect(err.code).toBe('AKS_ENVIRONMENT_BUSY');
    expect(err.message).toContain('Environment prod is busy: run 42 (teardown by alice) holds its lifecycle lock (on host bot-1, started 2026-11-26T02:00Z).');
    expect(err.fix).toContain('at 2026-11-26T02:01:00.000Z');
    expect(await lock.inspect('prod')).toEqual({ environment: 'prod', label: 'run 42 (teardown by alice)', host: 'bot-1', startedAt: new Date(T0), expiresAt: new Date(T0 + 60_000), backend: 'sqlite' });
    // the store lease keeps the label as its holder, as before
    expect((await store.getLease(lifecycleLease('prod')))?.holder).toBe('run 42 (teardown by alice)');
    const staging = await lock.acquire('staging', holder({ runId: 43 }));
    await staging.release();
    await h.release();
    expect(await lock.inspect('prod')).toBeUndefined();
    expect(await store.getLease(lifecycleLease('prod'))).toBeUndefined();
  });

  it('renews while the run lives: held well past one lock time', async () => {
    const h = await lock.acquire('prod', holder());
    for (let i = 0; i < 6; i++) {
      t += SQLITE_LOCK_RENEW_MS;
      await vi.advanceTimersByTimeAsync(SQLITE_LOCK_RENEW_MS);
    }
    // two minutes on, twice the lock time: still held, its expiry moved with the last renewal
    expect(await lock.inspect('prod')).toMatchObject({ label: 'run 42 (teardown by alice)', expiresAt: new Date(t + SQLITE_LOCK_TTL_MS) });
    expect((await refusal(lock.acquire('prod', holder({ runId: 43 })))).code).toBe('AKS_ENVIRONMENT_BUSY');
    expect(h.signal.aborted).toBe(false);
    await h.release();
  });

  it('a holder that stops renewing (crashed) loses it once the lock time has passed, not before', async () => {
    const h = await lock.acquire('prod', holder());
    h.stopRenewing();
    t = T0 + SQLITE_LOCK_TTL_MS - 1;
    expect((await refusal(lock.acquire('prod', holder({ runId: 43 })))).code).toBe('AKS_ENVIRONMENT_BUSY');
    t = T0 + SQLITE_LOCK_TTL_MS;
    expect(await lock.inspect('prod')).toBeUndefined();
    const next = await lock.acquire('prod', holder({ runId: 43, host: 'ci-runner-7' }));
    expect(await lock.inspect('prod')).toMatchObject({ label: 'run 43 (teardown by alice)', host: 'ci-runner-7' });
    await next.release();
  });

  it('the same holder takes over the lock a queued run kept (the executor of that run)', async () => {
    const queued = await lock.acquire('prod', holder());
    queued.stopRenewing();
    t += 30_000;
    const executor = await lock.acquire('prod', holder());
    expect(await lock.inspect('prod')).toMatchObject({ expiresAt: new Date(t + SQLITE_LOCK_TTL_MS) });
    await executor.release();
    expect(await lock.inspect('prod')).toBeUndefined();
  });

  it('breaking frees it for the next holder; the broken holder learns it at its next renewal and does not take it back', async () => {
    const h = await lock.acquire('prod', holder());
    expect(await lock.breakLock('prod')).toMatchObject({ label: 'run 42 (teardown by alice)', host: 'bot-1' });
    expect(await lock.inspect('prod')).toBeUndefined();
    t += SQLITE_LOCK_RENEW_MS;
    await vi.advanceTimersByTimeAsync(SQLITE_LOCK_RENEW_MS);
    await vi.waitFor(() => expect(h.signal.aborted).toBe(true));
    expect((h.signal.reason as AppError).code).toBe('AKS_ENVIRONMENT_LOCK_LOST');
    expect(logs.text).toContain('environment lock lost while the work goes on');
    expect(await lock.inspect('prod')).toBeUndefined();
    const next = await lock.acquire('prod', holder({ runId: 43 }));
    await h.release(); // leaves the new holder alone
    expect((await lock.inspect('prod'))?.label).toBe('run 43 (teardown by alice)');
    await next.release();
    expect(await lock.breakLock('prod')).toBeUndefined();
  });

  it('a lease taken under the old name format is shown as it is', async () => {
    await store.acquireLease(lifecycleLease('prod'), 'run 9 (backup run by scheduler:nightly)', 60_000, new Date(t));
    const err = await refusal(lock.acquire('prod', holder()));
    expect(err.message).toContain('run 9 (backup run by scheduler:nightly) holds its lifecycle lock (started 2026-11-26T02:00Z)');
  });
});
