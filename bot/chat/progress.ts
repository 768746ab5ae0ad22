import type { ProgressReporter, RunView } from '../../core/engine/launcher.js';
import type { RunRecord, StepRecord, Store } from '../../core/store/types.js';
import type { Delivery } from './delivery.js';

const MARK = { started: '…', succeeded: '✓', failed: '✗', skipped: '–' } as const;

/** "1h 02m", "3m 07s", "12s". */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s >= 3600) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/** A text bar: "[██████░░░░] 3/5". */
export function progressBar(done: number, total: number, width = 10): string {
  const t = Math.max(total, done, 1);
  const filled = Math.round((done / t) * width);
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${done}/${t}`;
}

export interface ProgressExtras {
  /** The newest progress line of the open step ("dump: 412.0 MB, 38.2 MB/s, rocketchat.users"); shown while running. */
  readonly latest?: string;
  /** The command's own answer, shown under a succeeded run ("Backup … is complete: …"). */
  readonly summary?: string;
}

/**
 * The one progress message of a run, re-rendered from the step journal: bar, steps with ✓/…/✗ and their
 * durations, the latest progress line while it works, elapsed time; once finished, a summary with what to do on
 * failure.
 */
export function renderProgress(run: RunRecord, steps: readonly StepRecord[], now: Date, plannedSteps = 0, extras: ProgressExtras = {}): string {
  const byStep = new Map<string, { status: StepRecord['status']; started: Date; ended: Date | undefined }>();
  for (const s of steps) {
    const cur = byStep.get(s.step);
    // A retry after a failure starts the clock again; otherwise the first 'started' counts.
    const started = !cur || (s.status === 'started' && cur.status === 'failed') ? s.at : cur.started;
    byStep.set(s.step, { status: s.status, started, ended: s.status === 'started' ? undefined : s.at });
  }
  const done = [...byStep.values()].filter((s) => s.status === 'succeeded' || s.status === 'skipped').length;
  const start = run.startedAt ?? run.createdAt;
  const end = run.finishedAt ?? now;
  // the planned count is the plan's estimate; a run that succeeded did all of its work
  const total = run.status === 'succeeded' ? done : Math.max(plannedSteps, byStep.size);
  const lines = [`Run ${run.id}: ${run.command} on ${run.environment} — ${run.status}, ${formatDuration(end.getTime() - start.getTime())}`, progressBar(done, total)];
  for (const [name, s] of byStep) {
    const took = s.ended ? ` (${formatDuration(s.ended.getTime() - s.started.getTime())})` : '';
    lines.push(`${MARK[s.status]} ${name}${took}`);
  }
  if (run.status === 'running' && extras.latest) lines.push(`   ${extras.latest}`);
  if (run.status === 'succeeded') {
    lines.push(`Done in ${formatDuration(end.getTime() - start.getTime())}.`);
    if (extras.summary) lines.push(extras.summary);
  }
  if (run.status === 'failed') {
    lines.push(`Failed${run.error ? `: ${run.error.message} [${run.error.code}]` : ''}.`);
    lines.push(`What to do: read "runs ${run.id}" for the journal; the run resumes from its last good step when started again.`);
  }
  if (run.status === 'denied' || run.status === 'cancelled') lines.push(`Not run: ${run.error?.message ?? run.status}. Nothing was changed.`);
  return lines.join('\n');
}

/**
 * A run's one progress message in chat: posted on the first report, edited in place after that. The message id is
 * kept in the store, so a restarted bot — or the process that resumes an interrupted run — edits the same message
 * instead of posting another. While chat is unreachable the edits pause; the final report then goes by email.
 */
export class ChatProgressReporter implements ProgressReporter {
  /** What each run's message shows now: an unchanged view is not sent again. */
  private readonly shown = new Map<number, string>();

  constructor(
    private readonly delivery: Delivery,
    private readonly store: Pick<Store, 'getRunMessage' | 'recordRunMessage'>,
    /** Where a run's first message is posted (known once the adapter resolved the room names). */
    private readonly room: { readonly roomId: string },
    private readonly now: () => Date,
  ) {}

  async ensureProgressMessage(view: RunView): Promise<void> {
    const { run, final } = view;
    const text = renderProgress(run, view.steps, this.now(), view.plannedSteps, { ...(view.latest ? { latest: view.latest } : {}), ...(view.summary ? { summary: view.summary } : {}) });
    if (this.shown.get(run.id) === text) return;
    const known = await this.store.getRunMessage(run.id);
    if (known) {
      if (await this.delivery.update(known.roomId, known.messageId, text)) this.remember(run.id, text, final);
      else if (final) await this.delivery.mail(`Run ${run.id} ${run.status}`, text, `run-${run.id}-final`);
      return;
    }
    const roomId = this.room.roomId;
    const d = await this.delivery.post(roomId, text, { subject: `Run ${run.id}: ${run.command} on ${run.environment} ${run.status}`, dedupeKey: `run-${run.id}-${final ? 'final' : 'start'}` });
    if (d.via === 'chat') {
      await this.store.recordRunMessage(run.id, roomId, d.msgId);
      this.remember(run.id, text, final);
    }
  }

  private remember(runId: number, text: string, final: boolean): void {
    if (final) this.shown.delete(runId);
    else this.shown.set(runId, text);
  }
}
