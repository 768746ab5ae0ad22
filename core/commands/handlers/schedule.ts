import { nextRuns } from './next-runs.js';
import type { CommandContext, CommandOutput } from '../types.js';

export async function scheduleHandler(args: Record<string, unknown>, ctx: CommandContext): Promise<CommandOutput> {
  const count = args.next as number;
  const jobs = ctx.config.schedules.map((s) => ({ ...s, next: nextRuns(s.cron, s.timezone, ctx.now(), count).map((d) => d.toISOString()) }));
  if (!jobs.length) return { text: 'No scheduled jobs are configured (schedules: in the configuration).', data: { jobs } };
  const text = jobs.map((j) => `${j.name}: "${j.command}" at "${j.cron}" (${j.timezone}); next: ${j.next.join(', ')}`).join('\n');
  return { text, data: { jobs } };
}
