import type Database from 'better-sqlite3';
import { TERMINAL_RUN_STATUSES } from '../types.js';
import type {
  Clock,
  JsonObject,
  JsonValue,
  NewRun,
  NewStep,
  RunError,
  RunFilter,
  RunRecord,
  RunSource,
  RunStatus,
  RunStore,
  StepRecord,
  StepStatus,
} from '../types.js';
import { fromJson, fromMs, fromMsOrNull, positiveInt, returned, toJson, toMs } from './codec.js';

interface RunRow {
  id: number;
  environment: string;
  command: string;
  args: string;
  source: RunSource;
  requested_by: string;
  status: RunStatus;
  dry_run: number;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  error_code: string | null;
  error_message: string | null;
}

interface StepRow {
  run_id: number;
  seq: number;
  step: string;
  status: StepStatus;
  detail: string | null;
  at: number;
}

type InsertRunParams = Omit<RunRow, 'id' | 'started_at' | 'finished_at' | 'error_code' | 'error_message'>;

const TERMINAL_SQL = TERMINAL_RUN_STATUSES.map((status) => `'${status}'`).join(', ');
const DEFAULT_LIST_LIMIT = 50;

export function sqliteRunStore(db: Database.Database, clock: Clock): RunStore {
  const insertRun = db.prepare<InsertRunParams, RunRow>(`
    INSERT INTO runs (environment, command, args, source, requested_by, status, dry_run, created_at)
    VALUES (@environment, @command, @args, @source, @requested_by, @status, @dry_run, @created_at)
    RETURNING *`);
  const selectRun = db.prepare<[number], RunRow>('SELECT * FROM runs WHERE id = ?');
  const selectRuns = db.prepare<{ environment: string | null; status: string | null; limit: number }, RunRow>(`
    SELECT * FROM runs
    WHERE (@environment IS NULL OR environment = @environment) AND (@status IS NULL OR status = @status)
    ORDER BY id DESC LIMIT @limit`);
  // One statement, so the terminal-status guard and the write cannot be separated by another writer.
  const updateStatus = db.prepare<{
    id: number;
    status: RunStatus;
    terminal: number;
    now: number;
    code: string | null;
    message: string | null;
  }>(`
    UPDATE runs SET
      status = @status,
      started_at = CASE WHEN @status = 'running' THEN COALESCE(started_at, @now) ELSE started_at END,
      finished_at = CASE WHEN @terminal = 1 THEN @now ELSE NULL END,
      error_code = @code,
      error_message = @message
    WHERE id = @id AND status NOT IN (${TERMINAL_SQL})`);
  const insertStep = db.prepare<Omit<StepRow, 'seq'>, StepRow>(`
    INSERT INTO run_steps (run_id, seq, step, status, detail, at)
    VALUES (@run_id, (SELECT COALESCE(MAX(seq), 0) + 1 FROM run_steps WHERE run_id = @run_id),
            @step, @status, @detail, @at)
    RETURNING *`);
  const selectSteps = db.prepare<[number], StepRow>('SELECT * FROM run_steps WHERE run_id = ? ORDER BY seq');
  const selectSucceeded = db.prepare<[number], { step: string }>(`
    SELECT step FROM run_steps WHERE run_id = ?
    GROUP BY step
    HAVING MAX(CASE WHEN status = 'succeeded' THEN seq END) >
           COALESCE(MAX(CASE WHEN status = 'failed' THEN seq END), 0)
    ORDER BY MAX(CASE WHEN status = 'succeeded' THEN seq END)`);

  return {
    async createRun(input: NewRun) {
      const row = insertRun.get({
        environment: input.environment,
        command: input.command,
        args: JSON.stringify(input.args ?? {}),
        source: input.source,
        requested_by: input.requestedBy,
        status: input.status ?? 'queued',
        dry_run: input.dryRun === true ? 1 : 0,
        created_at: toMs(clock()),
      });
      return toRun(returned(row));
    },
    async getRun(id: number) {
      const row = selectRun.get(id);
      return row === undefined ? undefined : toRun(row);
    },
    async listRuns(filter: RunFilter = {}) {
      const rows = selectRuns.all({
        environment: filter.environment ?? null,
        status: filter.status ?? null,
        limit: positiveInt('limit', filter.limit ?? DEFAULT_LIST_LIMIT),
      });
      return rows.map(toRun);
    },
    async updateRunStatus(id: number, status: RunStatus, error?: RunError) {
      const result = updateStatus.run({
        id,
        status,
        terminal: TERMINAL_RUN_STATUSES.includes(status) ? 1 : 0,
        now: toMs(clock()),
        code: error?.code ?? null,
        message: error?.message ?? null,
      });
      return result.changes === 1;
    },
    async appendStep(entry: NewStep) {
      const row = insertStep.get({
        run_id: entry.runId,
        step: entry.step,
        status: entry.status,
        detail: toJson(entry.detail),
        at: toMs(clock()),
      });
      return toStep(returned(row));
    },
    async listSteps(runId: number) {
      return selectSteps.all(runId).map(toStep);
    },
    async succeededSteps(runId: number) {
      return selectSucceeded.all(runId).map((row) => row.step);
    },
  };
}


function toRun(row: RunRow): RunRecord {
  return {
    id: row.id,
    environment: row.environment,
    command: row.command,
    args: fromJson<JsonObject>(row.args),
    source: row.source,
    requestedBy: row.requested_by,
    status: row.status,
    dryRun: row.dry_run === 1,
    createdAt: fromMs(row.created_at),
    startedAt: fromMsOrNull(row.started_at),
    finishedAt: fromMsOrNull(row.finished_at),
    error:
      row.error_code === null || row.error_message === null
        ? null
        : { code: row.error_code, message: row.error_message },
  };
}

function toStep(row: StepRow): StepRecord {
  return {
    runId: row.run_id,
    seq: row.seq,
    step: row.step,
    status: row.status,
    detail: row.detail === null ? null : fromJson<JsonValue>(row.detail),
    at: fromMs(row.at),
  };
}
