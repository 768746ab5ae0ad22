// The durable state of the bot. The interface is async although the default backend (embedded SQLite) is
// synchronous, so a server-backed store can replace it without touching callers.
// Every method is atomic on its own; methods that decide by time take `now` and fall back to the store's clock.

export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };
export type JsonObject = { readonly [key: string]: JsonValue };

// Value lists double as zod enums for callers; migrations hold their own frozen copies in CHECK constraints,
// and the tests round-trip every value here through the database so the two cannot drift.
export const RUN_SOURCES = ['rocketchat-app', 'chat', 'cli', 'scheduler', 'console', 'email', 'webhook'] as const;
export type RunSource = (typeof RUN_SOURCES)[number];

export const RUN_STATUSES = [
  'queued',
  'awaiting-approval',
  'running',
  'succeeded',
  'failed',
  'cancelled',
  'denied',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const TERMINAL_RUN_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'cancelled', 'denied'];

export const STEP_STATUSES = ['started', 'succeeded', 'failed', 'skipped'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

export const APPROVAL_STATUSES = ['pending', 'approved', 'denied', 'expired'] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];

export const AUDIT_RESULTS = ['ok', 'denied', 'failed', 'invalid', 'unavailable'] as const;
export type AuditResult = (typeof AUDIT_RESULTS)[number];

export const NOTIFICATION_CHANNELS = ['rocketchat', 'email'] as const;
export type NotificationChannel = (typeof NOTIFICATION_CHANNELS)[number];

export const NOTIFICATION_STATUSES = ['pending', 'sent', 'failed'] as const;
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];

export type Clock = () => Date;

export interface RunError {
  readonly code: string;
  readonly message: string;
}

export interface RunRecord {
  /** Sequential, so chat can say "run 42". */
  readonly id: number;
  readonly environment: string;
  /** The command path as the registry names it, e.g. "backup run". */
  readonly command: string;
  readonly args: JsonObject;
  readonly source: RunSource;
  readonly requestedBy: string;
  readonly status: RunStatus;
  readonly dryRun: boolean;
  readonly createdAt: Date;
  readonly startedAt: Date | null;
  readonly finishedAt: Date | null;
  readonly error: RunError | null;
}

export interface NewRun {
  readonly environment: string;
  readonly command: string;
  readonly args?: JsonObject;
  readonly source: RunSource;
  readonly requestedBy: string;
  readonly dryRun?: boolean;
  readonly status?: Extract<RunStatus, 'queued' | 'awaiting-approval'>;
}

export interface RunFilter {
  readonly environment?: string;
  readonly status?: RunStatus;
  /** Newest first; defaults to 50. */
  readonly limit?: number;
}

export interface StepRecord {
  readonly runId: number;
  /** 1, 2, 3… within a run, in the order the entries were appended. */
  readonly seq: number;
  readonly step: string;
  readonly status: StepStatus;
  readonly detail: JsonValue | null;
  readonly at: Date;
}

export interface NewStep {
  readonly runId: number;
  readonly step: string;
  readonly status: StepStatus;
  readonly detail?: JsonValue;
}

export interface RunStore {
  createRun(input: NewRun): Promise<RunRecord>;
  getRun(id: number): Promise<RunRecord | undefined>;
  listRuns(filter?: RunFilter): Promise<RunRecord[]>;
  /**
   * Sets the status (stamping startedAt on the first 'running', finishedAt on a terminal status) unless the run is
   * already finished. Returns false when nothing changed: unknown run, or a terminal status is final.
   */
  updateRunStatus(id: number, status: RunStatus, error?: RunError): Promise<boolean>;
  /** Append-only: entries are never updated; a retry appends a new 'started'. */
  appendStep(entry: NewStep): Promise<StepRecord>;
  listSteps(runId: number): Promise<StepRecord[]>;
  /**
   * The steps a resumed run may skip: those with a 'succeeded' entry not followed by a 'failed' one. A later
   * 'started' (crash while re-running an idempotent step) or 'skipped' (a previous resume skipping it) does not
   * undo the success. Ordered by when they succeeded.
   */
  succeededSteps(runId: number): Promise<string[]>;
}

export interface ApprovalRecord {
  readonly id: number;
  readonly runId: number;
  readonly environment: string;
  readonly requestedBy: string;
  /** The plan the approver is shown; approving means approving exactly this text. */
  readonly plan: string;
  readonly backupSetId: string | null;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  readonly status: ApprovalStatus;
  readonly decidedBy: string | null;
  readonly decidedAt: Date | null;
  readonly reason: string | null;
}

export interface NewApproval {
  readonly runId: number;
  readonly environment: string;
  readonly requestedBy: string;
  readonly plan: string;
  readonly backupSetId?: string | null;
  readonly expiresAt: Date;
}

export interface ApprovalDecision {
  readonly id: number;
  readonly status: Extract<ApprovalStatus, 'approved' | 'denied'>;
  readonly decidedBy: string;
  readonly reason?: string;
  readonly now?: Date;
}

export interface ApprovalFilter {
  readonly runId?: number;
  readonly status?: ApprovalStatus;
}

export interface ApprovalStore {
  createApproval(input: NewApproval): Promise<ApprovalRecord>;
  getApproval(id: number): Promise<ApprovalRecord | undefined>;
  listApprovals(filter?: ApprovalFilter): Promise<ApprovalRecord[]>;
  /**
   * Check-and-set: only a pending approval whose expiresAt is still ahead changes. Two approvers racing, a
   * reaction arriving after the email link was used, or a click after expiry all get false.
   */
  decideApproval(decision: ApprovalDecision): Promise<boolean>;
  /** Marks pending approvals at or past expiresAt as expired; returns how many. */
  expireApprovals(now?: Date): Promise<number>;
}

export interface AuditRecord {
  readonly id: number;
  readonly at: Date;
  readonly actor: string;
  readonly source: RunSource;
  /** Redacted by the caller: the store never sees secrets. */
  readonly command: string;
  readonly environment: string | null;
  readonly result: AuditResult;
  readonly detail: string | null;
}

export interface NewAuditEntry {
  readonly actor: string;
  readonly source: RunSource;
  readonly command: string;
  readonly environment?: string | null;
  readonly result: AuditResult;
  readonly detail?: string | null;
}

export interface AuditFilter {
  readonly limit: number;
  readonly environment?: string;
}

export interface AuditStore {
  appendAudit(entry: NewAuditEntry): Promise<AuditRecord>;
  /** Newest first. */
  listAudit(filter: AuditFilter): Promise<AuditRecord[]>;
}

export interface NotificationRecord {
  readonly id: number;
  readonly channel: NotificationChannel;
  readonly recipient: string;
  readonly subject: string | null;
  readonly body: string;
  readonly dedupeKey: string;
  readonly status: NotificationStatus;
  /** Incremented when claimed, so a sender that crashes mid-send still counts as an attempt. */
  readonly attempts: number;
  readonly nextAttemptAt: Date;
  readonly lastError: string | null;
  readonly createdAt: Date;
  readonly sentAt: Date | null;
}

/** A file sent with a notification: an email attachment, an upload in chat. */
export interface NotificationAttachment {
  readonly filename: string;
  readonly contentType: string;
  readonly content: Buffer;
}

/** An attachment as stored: its place in the notification, and when a chat post of it went out. */
export interface StoredAttachment extends NotificationAttachment {
  readonly seq: number;
  readonly postedAt?: Date;
}

export interface NewNotification {
  readonly channel: NotificationChannel;
  readonly recipient: string;
  readonly subject?: string | null;
  readonly body: string;
  /** Enqueueing the same key again is a no-op, so a retried step does not notify twice. */
  readonly dedupeKey: string;
  /** Defaults to now. */
  readonly notBefore?: Date;
  /** Stored with the notification in the same transaction (ignored when the dedupe key already existed). */
  readonly attachments?: readonly NotificationAttachment[];
}

export interface OutboxStore {
  /** `created` is false when the dedupe key already existed; `notification` is then the existing one. */
  enqueueNotification(input: NewNotification): Promise<{ notification: NotificationRecord; created: boolean }>;
  getNotification(id: number): Promise<NotificationRecord | undefined>;
  /**
   * Pending notifications due at `now`, oldest first. Claiming counts an attempt and hides them until the claim
   * times out, so concurrent senders do not pick the same one and a crashed sender's claim comes back (delivery is
   * at least once).
   */
  claimDueNotifications(now: Date, limit: number, channel?: NotificationChannel): Promise<NotificationRecord[]>;
  /** In the order they were enqueued; empty for a notification without files. */
  notificationAttachments(id: number): Promise<StoredAttachment[]>;
  /** Records that one file of a notification was posted, so a retry of the rest skips it. */
  markAttachmentPosted(id: number, seq: number, now?: Date): Promise<void>;
  findNotification(dedupeKey: string): Promise<NotificationRecord | undefined>;
  markNotificationSent(id: number, now?: Date): Promise<boolean>;
  /** With `retryAt` it stays pending until then; with null it is given up ('failed'). */
  markNotificationFailed(id: number, error: string, retryAt: Date | null): Promise<boolean>;
}

export interface LeaseRecord {
  readonly name: string;
  readonly holder: string;
  readonly acquiredAt: Date;
  readonly expiresAt: Date;
}

export interface LeaseStore {
  /** True when the lease was free, expired, or already held by `holder` (then renewed to now + ttlMs). */
  acquireLease(name: string, holder: string, ttlMs: number, now?: Date): Promise<boolean>;
  /** Only the holder can release; returns whether it did. */
  releaseLease(name: string, holder: string): Promise<boolean>;
  /** As stored, possibly expired: compare expiresAt with your clock. */
  getLease(name: string): Promise<LeaseRecord | undefined>;
}

export interface BackupSetRecord {
  /** The backup id, also the blob folder name. */
  readonly id: string;
  readonly environment: string;
  readonly createdAt: Date;
  /** The manifest as written beside the archive (validated by core/backup/manifest.ts before it is recorded). */
  readonly manifest: JsonObject;
  /** Set only by a passing restore drill: "verified" means "restored and compared", not "uploaded". */
  readonly verifiedAt: Date | null;
  readonly drill: (JsonObject & { readonly passed: boolean }) | null;
  readonly deletedAt: Date | null;
}

export interface NewBackupSet {
  readonly id: string;
  readonly environment: string;
  readonly createdAt: Date;
  readonly manifest: JsonObject;
}

export interface BackupSetStore {
  /** Idempotent: recording the same id again updates the manifest and keeps the drill result. */
  recordBackupSet(input: NewBackupSet): Promise<BackupSetRecord>;
  /** Deleted sets included (deletedAt set), so history explains what retention removed. */
  getBackupSet(id: string): Promise<BackupSetRecord | undefined>;
  /** Sets not deleted, newest first. */
  listBackupSets(environment: string, limit?: number): Promise<BackupSetRecord[]>;
  /** A passing drill sets verifiedAt; a failing one clears it. False when the set is unknown or deleted. */
  recordDrill(id: string, result: JsonObject & { readonly passed: boolean }, now?: Date): Promise<boolean>;
  markBackupSetDeleted(id: string, now?: Date): Promise<boolean>;
}

export interface RecoveryStateRecord {
  readonly environment: string;
  /** Opaque to the store: core/recovery/policy.ts owns (and validates) its shape. */
  readonly state: JsonObject;
  readonly updatedAt: Date;
}

export interface RecoveryStateStore {
  getRecoveryState(environment: string): Promise<RecoveryStateRecord | undefined>;
  /** Replaces the environment's state (upsert). */
  saveRecoveryState(environment: string, state: JsonObject, now?: Date): Promise<RecoveryStateRecord>;
}

export interface ApprovalPromptRecord {
  readonly approvalId: number;
  readonly claimedAt: Date;
  /** Null while the claim's holder is still posting. */
  readonly via: 'chat' | 'email' | null;
  readonly messageId: string | null;
  readonly postedAt: Date | null;
}

export interface ApprovalPromptStore {
  /**
   * Whoever claims an approval's prompt posts it; false when it was posted already, or another poster's claim is
   * younger than the claim timeout (a poster that crashed mid-post loses its claim after that).
   */
  claimApprovalPrompt(approvalId: number, now?: Date): Promise<boolean>;
  /** The claimed prompt went out (message id: the chat message, for reactions and edits). */
  recordApprovalPrompt(approvalId: number, via: 'chat' | 'email', messageId: string | null, now?: Date): Promise<boolean>;
  /** Gives a claim back when the prompt could not go anywhere, so it is tried again. */
  releaseApprovalPrompt(approvalId: number): Promise<boolean>;
  getApprovalPrompt(approvalId: number): Promise<ApprovalPromptRecord | undefined>;
  /** Pending, unexpired approvals created at or before `createdBefore` whose prompt is neither posted nor claimed. */
  listUnpromptedApprovals(createdBefore: Date, now?: Date): Promise<ApprovalRecord[]>;
}

export interface RunMessageRecord {
  readonly runId: number;
  readonly roomId: string;
  readonly messageId: string;
  readonly postedAt: Date;
}

/** Where a run's progress message is, so whoever reports on the run later edits it instead of posting again. */
export interface RunMessageStore {
  getRunMessage(runId: number): Promise<RunMessageRecord | undefined>;
  /** The first message recorded for a run stays; returns whether this call recorded it. */
  recordRunMessage(runId: number, roomId: string, messageId: string, now?: Date): Promise<boolean>;
}

export interface NonceStore {
  /**
   * Records a signed request's nonce, live until `expiresAt` inclusive; false when it is already live (a replay).
   * Deletes the nonces that expired before `now` in the same transaction, so the table holds only live ones.
   */
  rememberNonce(nonce: string, expiresAt: Date, now?: Date): Promise<boolean>;
  /** Deletes nonces that expired before `now`; returns how many. */
  pruneNonces(now?: Date): Promise<number>;
  /** How many nonces are stored (live or not yet pruned). */
  countNonces(): Promise<number>;
}

export interface Store extends RunStore, ApprovalStore, AuditStore, OutboxStore, LeaseStore, BackupSetStore, RecoveryStateStore, ApprovalPromptStore, RunMessageStore, NonceStore {
  close(): Promise<void>;
}
