import { schedule, type ScheduledTask } from 'node-cron';
import type { Config } from '../core/config/schema.js';
import { AppError } from '../core/errors/app-error.js';
import { execute } from '../bot/commands/dispatch.js';
import { parseCommandText, validateCommand } from '../bot/commands/parse.js';
import type { CommandDeps } from '../bot/commands/types.js';

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

/** Starts one cron task per configured schedule; each run goes through the same registry as chat and the CLI. */
export function startScheduler(deps: CommandDeps): { stop(): Promise<void>; tasks: ScheduledTask[] } {
  validateSchedules(deps.config);
  const tasks = deps.config.schedules.map((s) =>
    schedule(
      s.cron,
      async () => {
        const reply = await execute(s.command, { actor: `scheduler:${s.name}`, source: 'scheduler' }, deps);
        deps.log[reply.ok ? 'info' : 'warn']({ schedule: s.name, code: reply.code, exitCode: reply.exitCode }, 'scheduled command finished');
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
