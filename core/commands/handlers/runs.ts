import { AppError } from '../../errors/app-error.js';
import type { RunRecord } from '../../store/types.js';
import type { CommandContext, CommandOutput } from '../types.js';

function line(r: RunRecord): string {
  const who = `${r.requestedBy} via ${r.source}`;
  const err = r.error ? ` — ${r.error.code}: ${r.error.message}` : '';
  return `#${r.id} ${r.createdAt.toISOString()} ${r.environment} ${r.command}${r.dryRun ? ' (dry run)' : ''} ${r.status} (${who})${err}`;
}

export async function runsHandler(args: Record<string, unknown>, ctx: CommandContext): Promise<CommandOutput> {
  const runId = args.runId as number | undefined;
  if (runId !== undefined) {
    const run = await ctx.store.getRun(runId);
    if (!run) throw new AppError('AKS_RUN_NOT_FOUND', { runId });
    const steps = await ctx.store.listSteps(runId);
    const stepLines = steps.map((s) => `  ${s.seq}. ${s.at.toISOString()} ${s.step} ${s.status}`);
    return { text: [line(run), ...(stepLines.length ? stepLines : ['  (no steps recorded)'])].join('\n'), data: { run, steps } };
  }
  const runs = await ctx.store.listRuns({ limit: args.limit as number, ...(ctx.environment ? { environment: ctx.environment } : {}) });
  return { text: runs.length ? runs.map(line).join('\n') : 'No runs yet.', data: { runs } };
}
