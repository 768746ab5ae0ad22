import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { applyMigrations, LATEST_SCHEMA_VERSION, MIGRATIONS, schemaVersion } from '../../../../core/store/migrations.js';
import type { Migration } from '../../../../core/store/migrations.js';
import { openDatabase } from '../../../../core/store/sqlite.js';
import { aRun, fakeClock, fileStore, T0, tempDir } from './builders.js';

const N = LATEST_SCHEMA_VERSION;

function dbPath(): string {
  return join(tempDir(), 'state.db');
}

/** A raw connection for inspecting or preparing a database the way an older or newer build left it. */
function withRaw<T>(path: string, use: (db: Database.Database) => T): T {
  const db = openDatabase({ path });
  try {
    return use(db);
  } finally {
    db.close();
  }
}

function recorded(db: Database.Database) {
  return db.prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all();
}

function tables(db: Database.Database): string[] {
  return db
    .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    .all()
    .map((row) => row.name);
}

describe('migrations', () => {
  it('are numbered 1..N with distinct names', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    expect(new Set(MIGRATIONS.map((m) => m.name)).size).toBe(N);
  });

  it('bring a fresh database to the latest version and record each one', () => {
    const path = dbPath();
    const store = fileStore(path);

    expect(store.schemaVersion()).toBe(N);
    withRaw(path, (db) => {
      expect(recorded(db)).toEqual(
        MIGRATIONS.map((m) => ({ version: m.version, name: m.name, applied_at: T0.getTime() })),
      );
      expect(tables(db)).toEqual(
        expect.arrayContaining(['runs', 'run_steps', 'approvals', 'audit_log', 'notifications', 'leases']),
      );
    });
  });

  it('do nothing when re-run', async () => {
    const path = dbPath();
    const clock = fakeClock();
    const store = fileStore(path, clock);
    await store.createRun(aRun());
    await store.close();
    clock.advance(60_000);

    const before = withRaw(path, recorded);
    const again = withRaw(path, (db) => applyMigrations(db, MIGRATIONS, clock.now));
    const reopened = fileStore(path, clock);

    expect(again).toEqual({ from: N, to: N, applied: [] });
    expect(withRaw(path, recorded)).toEqual(before);
    expect(await reopened.listRuns()).toHaveLength(1);
  });

  it.each(Array.from({ length: N }, (_, i) => i))('upgrade a database at version %i to the latest', async (k) => {
    const path = dbPath();
    withRaw(path, (db) => {
      applyMigrations(db, MIGRATIONS.slice(0, k), fakeClock().now);
      if (k >= 1) {
        db.prepare(
          `INSERT INTO runs (environment, command, args, source, requested_by, status, dry_run, created_at)
           VALUES ('prod', 'backup run', '{}', 'cli', 'old-build', 'succeeded', 0, 1)`,
        ).run();
      }
      expect(schemaVersion(db)).toBe(k);
    });

    const store = fileStore(path);

    expect(store.schemaVersion()).toBe(N);
    expect((await store.listRuns()).map((run) => run.requestedBy)).toEqual(k >= 1 ? ['old-build'] : []);
    expect(await store.acquireLease('lifecycle:prod', 'me', 1_000)).toBe(true);
    const queued = await store.enqueueNotification({ channel: 'email', recipient: 'a@b', body: 'x', dedupeKey: 'k' });
    expect(queued.created).toBe(true);
  });

  it('refuse a database from a newer build, naming both versions, and change nothing', () => {
    const path = dbPath();
    withRaw(path, (db) => {
      applyMigrations(db, MIGRATIONS, fakeClock().now);
      db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'from-the-future', 0)")
        .run(N + 1);
    });
    const before = withRaw(path, (db) => ({ recorded: recorded(db), tables: tables(db) }));

    let error: unknown;
    try {
      fileStore(path);
    } catch (caught) {
      error = caught;
    }

    expect(error).toMatchObject({ name: 'StoreError', code: 'STORE_SCHEMA_TOO_NEW' });
    expect((error as Error).message).toContain(`version ${N + 1}`);
    expect((error as Error).message).toContain(`version ${N}`);
    expect(withRaw(path, (db) => ({ recorded: recorded(db), tables: tables(db) }))).toEqual(before);
  });

  it('refuse a database whose history names a different migration', () => {
    const path = dbPath();
    withRaw(path, (db) => {
      applyMigrations(db, MIGRATIONS, fakeClock().now);
      db.prepare("UPDATE schema_migrations SET name = 'something-else' WHERE version = 2").run();
    });

    expect(() => fileStore(path)).toThrow(expect.objectContaining({ code: 'STORE_SCHEMA_MISMATCH' }));
  });

  it.each<{ name: string; list: Migration[] }>([
    { name: 'a gap', list: [{ version: 1, name: 'a', sql: '' }, { version: 3, name: 'c', sql: '' }] },
    { name: 'not starting at 1', list: [{ version: 2, name: 'b', sql: '' }] },
    { name: 'an empty name', list: [{ version: 1, name: ' ', sql: '' }] },
  ])('refuse a migration list with $name', ({ list }) => {
    withRaw(dbPath(), (db) => {
      expect(() => applyMigrations(db, list, fakeClock().now)).toThrow(
        expect.objectContaining({ code: 'STORE_INVALID_MIGRATIONS' }),
      );
    });
  });

  it('roll a failing migration back completely and keep the previous version', () => {
    const path = dbPath();
    const broken: Migration = {
      version: N + 1,
      name: 'broken',
      sql: `CREATE TABLE half_done (id INTEGER PRIMARY KEY);
            INSERT INTO half_done VALUES (1);
            INSERT INTO no_such_table VALUES (1);`,
    };

    withRaw(path, (db) => {
      expect(() => applyMigrations(db, [...MIGRATIONS, broken], fakeClock().now)).toThrow(/no_such_table/);
      expect(schemaVersion(db)).toBe(N);
      expect(tables(db)).not.toContain('half_done');
    });
  });
});

describe('schema', () => {
  it('opens files with WAL, full sync, foreign keys and a busy timeout', () => {
    withRaw(dbPath(), (db) => {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('synchronous', { simple: true })).toBe(2);
      expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(db.pragma('busy_timeout', { simple: true })).toBe(5_000);
    });
  });

  it.each([
    'UPDATE run_steps SET status = ?',
    'DELETE FROM run_steps WHERE ? IS NOT NULL',
    'UPDATE audit_log SET result = ?',
    'DELETE FROM audit_log WHERE ? IS NOT NULL',
  ])('keeps the journal and audit log append-only: %s', async (sql) => {
    const path = dbPath();
    const store = fileStore(path);
    const run = await store.createRun(aRun());
    await store.appendStep({ runId: run.id, step: 'dump', status: 'started' });
    await store.appendAudit({ actor: 'alice', source: 'cli', command: 'backup run', result: 'ok' });

    withRaw(path, (db) => {
      expect(() => db.prepare(sql).run('succeeded')).toThrow(/append-only/);
    });
  });
});
