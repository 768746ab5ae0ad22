import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { ContainerClient } from '@azure/storage-blob';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { blobEnvironmentLock, lockBlobName } from '../../../../core/engine/lock-blob.js';
import { localHolder, type EnvironmentLock } from '../../../../core/engine/lock.js';
import { AppError } from '../../../../core/errors/app-error.js';
import { createLogger } from '../../../../core/log/logger.js';
import { Redactor } from '../../../../core/log/redact.js';
import { useSandbox } from '../../../sandbox/use.js';
import { sandboxBlobService } from '../../../helpers/azure-clients.js';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/lock-holder.ts', import.meta.url));
// Azure's shortest finite lease; production uses 60 s (BLOB_LEASE_SECONDS)
const LEASE_S = 15;
const RENEW_MS = 5_000;

interface Event {
  event: 'acquired' | 'busy' | 'released' | 'error';
  message?: string;
  lost?: boolean;
}

/** A bot-like or CLI-like process taking the lock; `next()` waits for its next JSON event. */
class Holder {
  readonly child: ChildProcess;
  private readonly events: Event[] = [];
  private waiters: Array<(e: Event) => void> = [];
  private stderr = '';
  constructor(args: { connectionString: string; container: string; environment: string; runId: number; actor: string }) {
    this.child = spawn(process.execPath, ['--import', 'tsx', fixture, args.connectionString, args.container, args.environment, String(args.runId), args.actor, String(LEASE_S), String(RENEW_MS)], {
      cwd: repoRoot,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let buf = '';
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buf += chunk;
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const e = JSON.parse(buf.slice(0, i)) as Event;
        buf = buf.slice(i + 1);
        const w = this.waiters.shift();
        if (w) w(e);
        else this.events.push(e);
      }
    });
    this.child.stderr!.setEncoding('utf8').on('data', (c: string) => (this.stderr += c));
  }
  next(): Promise<Event> {
    const e = this.events.shift();
    if (e) return Promise.resolve(e);
    return new Promise((resolve, reject) => {
      this.waiters.push(resolve);
      this.child.once('exit', (code, signal) => setTimeout(() => reject(new Error(`holder exited (${code ?? signal}) without an event:\n${this.stderr}`)), 100));
    });
  }
  /** Ends its step: it releases the lock and reports. */
  finish(): void {
    this.child.stdin!.end();
  }
  kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((r) => {
      this.child.once('exit', () => r());
      this.child.kill('SIGKILL');
    });
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const busyMessage = async (p: Promise<unknown>): Promise<string | undefined> => {
  try {
    const h = (await p) as { release(): Promise<void> };
    await h.release();
    return undefined;
  } catch (err) {
    if (err instanceof AppError && err.code === 'AKS_ENVIRONMENT_BUSY') return err.message;
    throw err;
  }
};

describe('the Blob environment lock across processes (Azurite)', () => {
  let connectionString: string;
  let containerName: string;
  let container: ContainerClient;
  let lock: EnvironmentLock;
  const spawned: Holder[] = [];

  beforeAll(async () => {
    const sb = await useSandbox(['azurite']);
    connectionString = sb.azurite.connectionString!;
    containerName = `locks-${randomUUID()}`;
    container = sandboxBlobService(connectionString).getContainerClient(containerName);
    await container.create();
    lock = blobEnvironmentLock({ container: async () => container, log: createLogger({ level: 'silent', redactor: new Redactor() }), now: () => new Date(), leaseSeconds: LEASE_S, renewEveryMs: RENEW_MS });
  });

  afterEach(async () => {
    await Promise.all(spawned.splice(0).map((h) => h.kill()));
  });

  const holder = (environment: string, runId: number, actor: string) => {
    const h = new Holder({ connectionString, container: containerName, environment, runId, actor });
    spawned.push(h);
    return h;
  };

  it('a bot and a CLI process race for one environment: exactly one holds it, the other is told who', async () => {
    const bot = holder('race', 42, 'alice');
    const cli = holder('race', 7, 'local-cli');
    const [b, c] = await Promise.all([bot.next(), cli.next()]);
    expect([b.event, c.event].sort()).toEqual(['acquired', 'busy']);
    const [winner, loser] = b.event === 'acquired' ? (['run 42 (backup run by alice)', c] as const) : (['run 7 (backup run by local-cli)', b] as const);
    expect(loser.message).toContain(`${winner} holds its lifecycle lock (on host ${hostname()}, started `);
    // and anyone else asking is told the same
    expect((await lock.inspect('race'))?.label).toBe(winner);
    expect(await busyMessage(lock.acquire('race', localHolder({ command: 'cost apply', actor: 'bob', startedAt: new Date() })))).toContain(winner);
    expect((await container.getBlobClient(lockBlobName('race')).getProperties()).leaseState).toBe('leased');
  });

  it('kill -9 of the holder: the lease outlives it, then frees the environment when it expires', async () => {
    const bot = holder('killed', 5, 'scheduler:nightly');
    expect((await bot.next()).event).toBe('acquired');
    // killed before its first renewal (RENEW_MS), so its lease runs out LEASE_S after it was taken
    const acquiredAt = Date.now();
    await bot.kill();

    const refusals: string[] = [];
    let freedAfterMs: number | undefined;
    // poll until acquirable; a lease that never frees fails the test after one lease plus a margin
    while (Date.now() - acquiredAt < (LEASE_S + 30) * 1000) {
      const answer = await busyMessage(lock.acquire('killed', localHolder({ command: 'backup run', actor: 'bob', startedAt: new Date() })));
      if (answer === undefined) {
        freedAfterMs = Date.now() - acquiredAt;
        break;
      }
      refusals.push(answer);
      await sleep(500);
    }
    expect(freedAfterMs).toBeDefined();
    // the dead holder kept it until its lease ran out, and was named meanwhile
    expect(refusals.length).toBeGreaterThan(0);
    expect(refusals[0]).toContain('run 5 (backup run by scheduler:nightly)');
    // not before the lease expired (1 s for the gap between taking the lease and reporting it)
    expect(freedAfterMs!).toBeGreaterThanOrEqual((LEASE_S - 1) * 1000);
  });

  it('a step that runs longer than the lease keeps it through renewal', async () => {
    const bot = holder('long', 9, 'alice');
    expect((await bot.next()).event).toBe('acquired');
    // asked again past the first lease's end, the holder still in its step: still held, by the same run
    await sleep((LEASE_S + 3) * 1000);
    expect(await busyMessage(lock.acquire('long', localHolder({ command: 'backup run', actor: 'bob', startedAt: new Date() })))).toContain('run 9 (backup run by alice)');
    bot.finish();
    const done = await bot.next();
    expect(done).toEqual({ event: 'released', lost: false });
    expect(await lock.inspect('long')).toBeUndefined();
  });

  it('the executor of a queued run takes over the lease its queue kept; another holder may not', async () => {
    const startedAt = new Date();
    const queued = await lock.acquire('handover', localHolder({ runId: 3, command: 'backup drill', actor: 'carol', startedAt }));
    queued.stopRenewing();
    await expect(busyMessage(lock.acquire('handover', localHolder({ runId: 4, command: 'backup drill', actor: 'carol', startedAt })))).resolves.toContain('run 3 (backup drill by carol)');
    const executor = await lock.acquire('handover', localHolder({ runId: 3, command: 'backup drill', actor: 'carol', startedAt }));
    await executor.release();
    expect(await lock.inspect('handover')).toBeUndefined();
  });

  it('breaking the lock frees it at once and the holder learns it lost the lock', async () => {
    const fast = blobEnvironmentLock({ container: async () => container, log: createLogger({ level: 'silent', redactor: new Redactor() }), now: () => new Date(), leaseSeconds: LEASE_S, renewEveryMs: 200 });
    const held = await fast.acquire('broken', localHolder({ runId: 11, command: 'restore mongo', actor: 'alice', startedAt: new Date() }));
    const broken = await lock.breakLock('broken');
    expect(broken).toMatchObject({ label: 'run 11 (restore mongo by alice)', host: hostname(), backend: 'blob' });
    const other = await lock.acquire('broken', localHolder({ command: 'backup run', actor: 'bob', startedAt: new Date() }));
    await new Promise<void>((resolve) => held.signal.addEventListener('abort', () => resolve(), { once: true }));
    expect((held.signal.reason as AppError).code).toBe('AKS_ENVIRONMENT_LOCK_LOST');
    await held.release(); // a lost holder's release leaves the new holder alone
    expect((await lock.inspect('broken'))?.label).toBe('(backup run by bob)');
    await other.release();
    expect(await lock.breakLock('broken')).toBeUndefined();
  });
});
