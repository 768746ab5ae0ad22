import type Database from 'better-sqlite3';
import { StoreError } from './errors.js';
import type { Clock } from './types.js';

export interface Migration {
  readonly version: number;
  readonly name: string;
  /** Runs inside the migration's transaction: no BEGIN/COMMIT, and `PRAGMA foreign_keys` has no effect here. */
  readonly sql: string;
}

export interface MigrationResult {
  readonly from: number;
  readonly to: number;
  readonly applied: readonly number[];
}

// Applied migrations are history: never edit one, append a new version. CHECK lists are spelled out rather than
// built from the constants in types.ts so that changing a constant cannot rewrite what an old version meant.
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'runs-and-step-journal',
    sql: `
      CREATE TABLE runs (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        environment   TEXT NOT NULL,
        command       TEXT NOT NULL,
        args          TEXT NOT NULL CHECK (json_valid(args) AND json_type(args) = 'object'),
        source        TEXT NOT NULL CHECK (source IN
                        ('rocketchat-app', 'chat', 'cli', 'scheduler', 'console', 'email', 'webhook')),
        requested_by  TEXT NOT NULL,
        status        TEXT NOT NULL CHECK (status IN
                        ('queued', 'awaiting-approval', 'running', 'succeeded', 'failed', 'cancelled', 'denied')),
        dry_run       INTEGER NOT NULL CHECK (dry_run IN (0, 1)),
        created_at    INTEGER NOT NULL,
        started_at    INTEGER,
        finished_at   INTEGER,
        error_code    TEXT,
        error_message TEXT,
        CHECK ((error_code IS NULL) = (error_message IS NULL))
      ) STRICT;
      CREATE INDEX runs_by_environment ON runs (environment, id);
      CREATE INDEX runs_by_status ON runs (status, id);

      CREATE TABLE run_steps (
        run_id INTEGER NOT NULL REFERENCES runs (id),
        seq    INTEGER NOT NULL CHECK (seq > 0),
        step   TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('started', 'succeeded', 'failed', 'skipped')),
        detail TEXT CHECK (detail IS NULL OR json_valid(detail)),
        at     INTEGER NOT NULL,
        PRIMARY KEY (run_id, seq)
      ) STRICT, WITHOUT ROWID;
      -- Resume decisions read this journal; a rewritten entry would make a crashed run skip work it never did.
      CREATE TRIGGER run_steps_no_update BEFORE UPDATE ON run_steps
        BEGIN SELECT RAISE(ABORT, 'run_steps is append-only'); END;
      CREATE TRIGGER run_steps_no_delete BEFORE DELETE ON run_steps
        BEGIN SELECT RAISE(ABORT, 'run_steps is append-only'); END;
    `,
  },
  {
    version: 2,
    name: 'approvals-and-audit-log',
    sql: `
      CREATE TABLE approvals (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id        INTEGER NOT NULL REFERENCES runs (id),
        environment   TEXT NOT NULL,
        requested_by  TEXT NOT NULL,
        plan          TEXT NOT NULL,
        backup_set_id TEXT,
        created_at    INTEGER NOT NULL,
        expires_at    INTEGER NOT NULL,
        status        TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'expired')),
        decided_by    TEXT,
        decided_at    INTEGER,
        reason        TEXT,
        CHECK ((status IN ('approved', 'denied')) = (decided_by IS NOT NULL AND decided_at IS NOT NULL))
      ) STRICT;
      CREATE INDEX approvals_by_run ON approvals (run_id);
      CREATE INDEX approvals_pending ON approvals (status, expires_at);

      CREATE TABLE audit_log (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        at          INTEGER NOT NULL,
        actor       TEXT NOT NULL,
        source      TEXT NOT NULL CHECK (source IN
                      ('rocketchat-app', 'chat', 'cli', 'scheduler', 'console', 'email', 'webhook')),
        command     TEXT NOT NULL,
        environment TEXT,
        result      TEXT NOT NULL CHECK (result IN ('ok', 'denied', 'failed', 'invalid', 'unavailable')),
        detail      TEXT
      ) STRICT;
      CREATE INDEX audit_log_by_environment ON audit_log (environment, id);
      -- Who ran what must not be quietly editable by the process it audits.
      CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
      CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
    `,
  },
  {
    version: 3,
    name: 'notification-outbox-and-leases',
    sql: `
      CREATE TABLE notifications (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        channel         TEXT NOT NULL CHECK (channel IN ('rocketchat', 'email')),
        recipient       TEXT NOT NULL,
        subject         TEXT,
        body            TEXT NOT NULL,
        dedupe_key      TEXT NOT NULL UNIQUE,
        status          TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
        attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        next_attempt_at INTEGER NOT NULL,
        last_error      TEXT,
        created_at      INTEGER NOT NULL,
        sent_at         INTEGER
      ) STRICT;
      CREATE INDEX notifications_due ON notifications (status, next_attempt_at, id);

      CREATE TABLE leases (
        name        TEXT PRIMARY KEY,
        holder      TEXT NOT NULL,
        acquired_at INTEGER NOT NULL,
        expires_at  INTEGER NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 4,
    name: 'backup-sets',
    sql: `
      CREATE TABLE backup_sets (
        id          TEXT PRIMARY KEY,
        environment TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        manifest    TEXT NOT NULL CHECK (json_valid(manifest)),
        verified_at INTEGER,
        drill       TEXT CHECK (drill IS NULL OR json_valid(drill)),
        deleted_at  INTEGER
      ) STRICT;
      CREATE INDEX backup_sets_by_env ON backup_sets (environment, created_at);
    `,
  },
  {
    // One row per environment: the recovery policy's state machine (core/recovery/policy.ts), so a restarted bot
    // resumes mid-recovery (attempts made, escalation time) instead of starting over and reconciling again.
    version: 5,
    name: 'recovery-state',
    sql: `
      CREATE TABLE recovery_state (
        environment TEXT PRIMARY KEY,
        state       TEXT NOT NULL CHECK (json_valid(state)),
        updated_at  INTEGER NOT NULL
      ) STRICT;
    `,
  },
  {
    // Files sent with a notification (the cost chart PNG): a table of their own, so the outbox's claim query
    // never reads blobs, and a notification may carry several. Approval prompts: which pending approval has had
    // its prompt posted (in chat or by email), so a bot can post the prompts of approvals created by another
    // process (the CLI) exactly once; a claim without posted_at that grows old is taken over (crashed poster).
    version: 6,
    name: 'notification-attachments-and-approval-prompts',
    sql: `
      CREATE TABLE notification_attachments (
        notification_id INTEGER NOT NULL REFERENCES notifications (id),
        seq             INTEGER NOT NULL CHECK (seq > 0),
        filename        TEXT NOT NULL CHECK (length(filename) BETWEEN 1 AND 200),
        content_type    TEXT NOT NULL,
        content         BLOB NOT NULL,
        PRIMARY KEY (notification_id, seq)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE approval_prompts (
        approval_id INTEGER PRIMARY KEY REFERENCES approvals (id),
        claimed_at  INTEGER NOT NULL,
        via         TEXT CHECK (via IN ('chat', 'email')),
        message_id  TEXT,
        posted_at   INTEGER,
        CHECK ((via IS NULL) = (posted_at IS NULL))
      ) STRICT;
    `,
  },
  {
    version: 7,
    name: 'notification-attachment-posted',
    // a notification with several files is posted file by file; a retry after a failure part-way must not post
    // the files that already went out again
    sql: `
      ALTER TABLE notification_attachments ADD COLUMN posted_at INTEGER;
    `,
  },
  {
    version: 8,
    name: 'run-messages',
    // the one progress message of a run: a restarted bot (or another process resuming the run) edits it instead of
    // posting a second one
    sql: `
      CREATE TABLE run_messages (
        run_id      INTEGER PRIMARY KEY REFERENCES runs(id),
        room_id     TEXT NOT NULL,
        message_id  TEXT NOT NULL,
        posted_at   INTEGER NOT NULL
      ) STRICT;
    `,
  },
  {
    // Nonces of signed requests (the Rocket.Chat App's), kept until their timestamp leaves the acceptance window,
    // so a request seen once is refused again even after a restart. Expired rows are deleted on insert; the
    // index keeps that deletion a range scan.
    version: 9,
    name: 'request-nonces',
    sql: `
      CREATE TABLE request_nonces (
        nonce      TEXT PRIMARY KEY CHECK (length(nonce) BETWEEN 1 AND 128),
        expires_at INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX request_nonces_by_expiry ON request_nonces (expires_at);
    `,
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS.length;

const CREATE_TABLE = `
  CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at INTEGER NOT NULL
  ) STRICT`;

interface AppliedRow {
  version: number;
  name: string;
}

/** 0 for a database no migration has touched. */
export function schemaVersion(db: Database.Database): number {
  const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
  if (table === undefined) return 0;
  const row = db.prepare<[], { v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations').get();
  return row?.v ?? 0;
}

/**
 * Brings the database up to the last of `migrations`, one transaction per migration, so a crash leaves it at the
 * last fully applied version. Refuses a database that is ahead of the code or whose history differs from it:
 * running against a schema we do not understand could corrupt data written by a newer build.
 */
export function applyMigrations(
  db: Database.Database,
  migrations: readonly Migration[],
  clock: Clock,
): MigrationResult {
  checkOrdered(migrations);
  db.exec(CREATE_TABLE);
  const from = checkHistory(db, migrations);

  const isApplied = db.prepare<[number], { one: number }>('SELECT 1 AS one FROM schema_migrations WHERE version = ?');
  const record = db.prepare<[number, string, number]>(
    'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
  );
  const applied: number[] = [];
  for (const migration of migrations.slice(from)) {
    // IMMEDIATE takes the write lock before re-checking, so two processes starting at once apply each version once.
    const applyOne = db.transaction(() => {
      if (isApplied.get(migration.version) !== undefined) return;
      db.exec(migration.sql);
      record.run(migration.version, migration.name, clock().getTime());
      applied.push(migration.version);
    });
    applyOne.immediate();
  }
  return { from, to: schemaVersion(db), applied };
}

function checkOrdered(migrations: readonly Migration[]): void {
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1 || migration.name.trim() === '') {
      throw new StoreError(
        'STORE_INVALID_MIGRATIONS',
        `Migration list is malformed at position ${index}: ` +
          'versions must run 1, 2, 3… without gaps and each needs a name.',
      );
    }
  });
}

function checkHistory(db: Database.Database, migrations: readonly Migration[]): number {
  const rows = db.prepare<[], AppliedRow>('SELECT version, name FROM schema_migrations ORDER BY version').all();
  const known = migrations.length;
  const newest = rows.at(-1)?.version ?? 0;
  if (newest > known) {
    throw new StoreError(
      'STORE_SCHEMA_TOO_NEW',
      `The database schema is at version ${newest}, but this build of aks-lifecycle-bot only knows up to ` +
        `version ${known}; refusing to open it.`,
      'Run a build at least as new as the one that last opened this database, or point the store at another file.',
    );
  }
  rows.forEach((row, index) => {
    const expected = migrations[row.version - 1];
    if (row.version !== index + 1 || expected === undefined || expected.name !== row.name) {
      throw new StoreError(
        'STORE_SCHEMA_MISMATCH',
        `The database records migration ${row.version} as "${row.name}", which does not match this build's history.`,
        'The file was written by a different branch or build; point the store at the right database.',
      );
    }
  });
  return newest;
}
