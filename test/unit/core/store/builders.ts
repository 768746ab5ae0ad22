import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { openSqliteStore } from '../../../../core/store/sqlite.js';
import type { SqliteStore } from '../../../../core/store/sqlite.js';
import type { NewApproval, NewNotification, NewRun } from '../../../../core/store/types.js';

export const T0 = new Date('2030-01-01T00:00:00.000Z');

export interface FakeClock {
  readonly now: () => Date;
  advance(ms: number): void;
}

export function fakeClock(start: Date = T0): FakeClock {
  let current = start.getTime();
  return {
    now: () => new Date(current),
    advance(ms) {
      current += ms;
    },
  };
}

export function at(offsetMs: number): Date {
  return new Date(T0.getTime() + offsetMs);
}

/** An in-memory store on a fake clock, closed after the test. */
export function memoryStore(clock: FakeClock = fakeClock()): { store: SqliteStore; clock: FakeClock } {
  return { store: track(openSqliteStore({ path: ':memory:', clock: clock.now })), clock };
}

export function fileStore(path: string, clock: FakeClock = fakeClock()): SqliteStore {
  return track(openSqliteStore({ path, clock: clock.now }));
}

/** Closes the store when the current test finishes. */
export function track(store: SqliteStore): SqliteStore {
  onTestFinished(() => store.close());
  return store;
}

/** A fresh directory removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'aks-store-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function aRun(overrides: Partial<NewRun> = {}): NewRun {
  return {
    environment: 'prod',
    command: 'backup run',
    args: { verify: true },
    source: 'chat',
    requestedBy: 'alice',
    ...overrides,
  };
}

export function anApproval(runId: number, overrides: Partial<NewApproval> = {}): NewApproval {
  return {
    runId,
    environment: 'prod',
    requestedBy: 'alice',
    plan: 'teardown prod: uninstall 3 releases, destroy cluster layer',
    backupSetId: 'bs-2030-01-01',
    expiresAt: at(15 * 60_000),
    ...overrides,
  };
}

export function aNotification(overrides: Partial<NewNotification> = {}): NewNotification {
  return {
    channel: 'email',
    recipient: 'ops@example.org',
    subject: 'Teardown of prod finished',
    body: 'Run 42 succeeded.',
    dedupeKey: 'run-42-finished',
    ...overrides,
  };
}
