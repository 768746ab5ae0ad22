import { statSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { applyMigrations, LATEST_SCHEMA_VERSION, MIGRATIONS, schemaVersion } from '../../../../core/store/migrations.js';
import { openDatabase } from '../../../../core/store/sqlite.js';
import { aRun, fakeClock, fileStore, tempDir } from './builders.js';
import { killWhenInTransaction } from './child.js';

// Each case starts a tsx child and writes tens of thousands of rows before it is killed.
const CHILD_TIMEOUT = 60_000;
const N = LATEST_SCHEMA_VERSION;

function withRaw<T>(path: string, use: (db: Database.Database) => T): T {
  const db = openDatabase({ path });
  try {
    return use(db);
  } finally {
    db.close();
  }
}

function integrity(path: string): unknown {
  return withRaw(path, (db) => db.pragma('integrity_check', { simple: true }));
}

function schema(db: Database.Database): unknown[] {
  return db.prepare('SELECT type, name, sql FROM sqlite_master ORDER BY type, name').all();
}

function walSize(path: string): number {
  return statSync(`${path}-wal`).size;
}

describe('crash safety', () => {
  it(
    'keeps every committed row and none of a transaction killed mid-way',
    async () => {
      const path = join(tempDir(), 'state.db');
      const committed = 25;

      const child = await killWhenInTransaction('crash-mid-write.ts', [path, String(committed), '20000']);

      expect(child.signal).toBe('SIGKILL');
      const walBefore = Number(/WAL_BEFORE=(\d+)/.exec(child.stdout)?.[1]);
      expect(walSize(path)).toBeGreaterThan(walBefore + 1_000_000);

      expect(integrity(path)).toBe('ok');
      const store = fileStore(path);
      const runs = await store.listRuns({ limit: 100_000 });
      expect(runs.map((run) => run.id)).toEqual(Array.from({ length: committed }, (_, i) => committed - i));
      expect(runs.every((run) => run.requestedBy === 'committed' && run.status === 'queued')).toBe(true);
      for (const run of runs) {
        expect((await store.listSteps(run.id)).map((s) => [s.step, s.status])).toEqual([['mongodump', 'succeeded']]);
      }
      const audit = await store.listAudit({ limit: 100_000 });
      expect(audit).toHaveLength(committed);
      expect(audit.every((entry) => entry.actor === 'committed')).toBe(true);

      const next = await store.createRun(aRun());
      expect(next.id).toBe(committed + 1);
      await store.appendStep({ runId: next.id, step: 'mongodump', status: 'started' });
      await store.appendAudit({ actor: 'alice', source: 'chat', command: 'backup run', result: 'ok' });
      expect(await store.listSteps(next.id)).toHaveLength(1);
      expect(await store.listAudit({ limit: 100_000 })).toHaveLength(committed + 1);
      await store.close();
      expect(integrity(path)).toBe('ok');
    },
    CHILD_TIMEOUT,
  );

  it(
    'leaves the schema version and data untouched when killed inside a new migration',
    async () => {
      const path = join(tempDir(), 'state.db');
      const store = fileStore(path, fakeClock());
      await store.createRun(aRun({ requestedBy: 'before-upgrade' }));
      await store.close();
      const before = withRaw(path, schema);

      const child = await killWhenInTransaction('crash-mid-migration.ts', [path, 'next']);

      expect(child.signal).toBe('SIGKILL');
      expect(integrity(path)).toBe('ok');
      withRaw(path, (db) => {
        expect(schemaVersion(db)).toBe(N);
        expect(schema(db)).toEqual(before);
      });
      const reopened = fileStore(path);
      expect(reopened.schemaVersion()).toBe(N);
      expect(await reopened.listRuns()).toMatchObject([{ id: 1, requestedBy: 'before-upgrade', status: 'queued' }]);
      expect((await reopened.createRun(aRun())).id).toBe(2);
    },
    CHILD_TIMEOUT,
  );

  it(
    'stays at version N-1 when killed inside the upgrade to N, and the next open completes it',
    async () => {
      const path = join(tempDir(), 'state.db');
      withRaw(path, (db) => applyMigrations(db, MIGRATIONS.slice(0, -1), fakeClock().now));
      const before = withRaw(path, schema);

      const child = await killWhenInTransaction('crash-mid-migration.ts', [path, 'latest']);

      expect(child.signal).toBe('SIGKILL');
      expect(integrity(path)).toBe('ok');
      withRaw(path, (db) => {
        expect(schemaVersion(db)).toBe(N - 1);
        expect(schema(db)).toEqual(before);
      });
      const upgraded = fileStore(path);
      expect(upgraded.schemaVersion()).toBe(N);
      expect(await upgraded.acquireLease('lifecycle:prod', 'me', 1_000)).toBe(true);
    },
    CHILD_TIMEOUT,
  );
});
