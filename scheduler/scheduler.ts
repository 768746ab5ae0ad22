import { schedule, type ScheduledTask } from 'node-cron';
import type { Config } from '../core/config/schema.js';
import { AppError } from '../core/errors/app-error.js';
import { execute, type Reply } from '../bot/commands/dispatch.js';
import { parseCommandText, validateCommand } from '../bot/commands/parse.js';
import type { CommandDeps, CommandSpec } from '../bot/commands/types.js';

/**
 * Checks at boot that every scheduled command line parses and validates against the registry, so a typo in a
 * schedule fails the start instead of failing silently at 2 am.
 */
export function validateSchedules(config: Config): void {
  const problems: string[] = [];
  config.schedules.forEach((s, i) => {
    try {
      validateCommand(parseCommandText(s.command), config);
    } catch (err) {
      const why = err instanceof AppError ? err.message : String(err);
      problems.push(`schedules.${i}.command ("${s.command}"): ${why}`);
    }
  });
  if (problems.length) throw new AppError('AKS_CONFIG_INVALID', { issues: problems.join('; ') });
}

export interface SchedulerHooks {
  /**
   * Every scheduled command's reply. bot/main.ts passes the chat side's announce, so a destructive command that
   * waits for approval gets its prompt posted (or mailed) like one asked for in chat. A failing hook is logged;
   * it never stops the schedule.
   */
  readonly onReply?: (reply: Reply, schedule: { readonly name: string; readonly command: string }) => Promise<void> | void;
  /** Tests pass their own registry; everything else uses the real one. */
  readonly specs?: readonly CommandSpec[];
}

/** Runs one configured schedule now, exactly as its cron task does (the task's body; tests call it directly). */
export async function runSchedule(s: { readonly name: string; readonly command: string }, deps: CommandDeps, hooks: SchedulerHooks = {}): Promise<Reply> {
  const reply = await execute(s.command, { actor: `scheduler:${s.name}`, source: 'scheduler' }, deps, ...(hooks.specs ? [hooks.specs] : []));
  deps.log[reply.ok ? 'info' : 'warn']({ schedule: s.name, code: reply.code, exitCode: reply.exitCode }, 'scheduled command finished');
  try {
    await hooks.onReply?.(reply, { name: s.name, command: s.command });
  } catch (err) {
    deps.log.error({ err, schedule: s.name }, 'scheduled command reply not delivered');
  }
  return reply;
}

/** Starts one cron task per configured schedule; each run goes through the same registry as chat and the CLI. */
export function startScheduler(deps: CommandDeps, hooks: SchedulerHooks = {}): { stop(): Promise<void>; tasks: ScheduledTask[] } {
  validateSchedules(deps.config);
  const tasks = deps.config.schedules.map((s) =>
    schedule(
      s.cron,
      async () => {
        await runSchedule(s, deps, hooks);
      },
      { name: s.name, timezone: s.timezone, noOverlap: true },
    ),
  );
  return {
    tasks,
    stop: async () => {
      for (const t of tasks) await t.destroy();
    },
  };
}
