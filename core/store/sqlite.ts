import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { applyMigrations, MIGRATIONS, schemaVersion } from './migrations.js';
import { sqliteApprovalPromptStore } from './sqlite/approval-prompts.js';
import { sqliteApprovalStore } from './sqlite/approvals.js';
import { sqliteAuditStore } from './sqlite/audit.js';
import { sqliteBackupSetStore } from './sqlite/backup-sets.js';
import { sqliteLeaseStore } from './sqlite/leases.js';
import { sqliteNonceStore } from './sqlite/nonces.js';
import { sqliteOutboxStore } from './sqlite/outbox.js';
import { sqliteRecoveryStateStore } from './sqlite/recovery-state.js';
import { sqliteRunMessageStore } from './sqlite/run-messages.js';
import { sqliteRunStore } from './sqlite/runs.js';
import type { Clock, Store } from './types.js';

export interface SqliteOptions {
  /** A file path, or ':memory:' for a throw-away database. */
  readonly path: string;
  readonly clock?: Clock;
  /** How long a write waits for another process's lock before failing with SQLITE_BUSY. */
  readonly busyTimeoutMs?: number;
}

export interface SqliteStoreOptions extends SqliteOptions {
  /** How long a claimed notification stays hidden from other senders before it counts as abandoned. */
  readonly notificationClaimTimeoutMs?: number;
  /** How long a claimed approval prompt may stay unposted before another poster takes it over. */
  readonly approvalPromptClaimTimeoutMs?: number;
  /** Audit rows of one event-loop turn share a transaction (default); false commits each alone (bench/chat-ack.ts). */
  readonly auditGroupCommit?: boolean;
}

export interface SqliteStore extends Store {
  readonly path: string;
  schemaVersion(): number;
}

const systemClock: Clock = () => new Date();

/** Opens a connection configured for durability, without migrating it. */
export function openDatabase(options: SqliteOptions): Database.Database {
  if (options.path !== ':memory:' && options.path !== '') mkdirSync(dirname(options.path), { recursive: true });
  const db = new Database(options.path);
  try {
    // Set before WAL: switching journal mode needs a lock another process may briefly hold.
    db.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5_000)}`);
    // WAL: readers (status, chat) never block the writer, and a crash mid-transaction leaves only uncommitted
    // frames that recovery discards. FULL syncs the WAL on every commit, so a power loss cannot take back a
    // journal entry the engine already acted on.
    // FULL is kept (not NORMAL, which survives a process crash but may lose the last commits on power loss):
    // its cost under bursts of chat commands is paid once per batch by the audit store's group commit instead.
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

export function openSqliteStore(options: SqliteStoreOptions): SqliteStore {
  const clock = options.clock ?? systemClock;
  const db = openDatabase(options);
  try {
    applyMigrations(db, MIGRATIONS, clock);
    const { flush: flushAudit, ...audit } = sqliteAuditStore(db, clock, options.auditGroupCommit ?? true);
    const { flush: flushNonces, ...nonces } = sqliteNonceStore(db, clock);
    return {
      path: options.path,
      schemaVersion: () => schemaVersion(db),
      ...sqliteRunStore(db, clock),
      ...sqliteApprovalStore(db, clock),
      ...audit,
      ...sqliteOutboxStore(db, clock, options.notificationClaimTimeoutMs ?? 5 * 60_000),
      ...sqliteLeaseStore(db, clock),
      ...sqliteBackupSetStore(db, clock),
      ...sqliteRecoveryStateStore(db, clock),
      ...sqliteApprovalPromptStore(db, clock, options.approvalPromptClaimTimeoutMs ?? 5 * 60_000),
      ...sqliteRunMessageStore(db, clock),
      ...nonces,
      async close() {
        // Audit entries and nonces waiting for their group commit are written before the connection goes.
        if (db.open) flushAudit();
        if (db.open) flushNonces();
        if (db.open) db.close();
      },
    };
  } catch (error) {
    db.close();
    throw error;
  }
}
