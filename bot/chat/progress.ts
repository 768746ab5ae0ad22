import type { RunRecord, StepRecord } from '../../core/store/types.js';

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
