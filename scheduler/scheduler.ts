import { schedule, type ScheduledTask } from 'node-cron';
import type { Config } from '../core/config/schema.js';
import { announceOnce } from '../core/notification/announce.js';
import { AppError } from '../core/errors/app-error.js';
import { awaitsApproval, execute, type Reply } from '../core/commands/dispatch.js';
import { isAllowed, roleOf } from '../core/commands/authorize.js';
import { parseCommandText, validateCommand } from '../core/commands/parse.js';
import { commandKey } from '../core/commands/registry.js';
import { missingForNeeds } from '../core/clients/requirements.js';
import type { CommandDeps, CommandSpec } from '../core/commands/types.js';

/**
 * Checks at boot that every scheduled command line parses and validates against the registry, that the schedule's
 * identity may run it, and that its environment has what the command requires (CommandSpec.requires), so a typo
 * or a missing setting fails the start, naming the setting, instead of failing at 2 am.
 */
export function validateSchedules(config: Config, registry: readonly CommandSpec[]): void {
  const problems: string[] = [];
  config.schedules.forEach((s, i) => {
    try {
      const { spec, environment } = validateCommand(parseCommandText(s.command, registry), config);
      // the schedule acts as "scheduler:<name>": without a role for it, every run would be refused
      const actor = `scheduler:${s.name}`;
      if (!isAllowed(roleOf(actor, config), spec.role)) {
        problems.push(`schedules.${i} ("${s.name}"): "${actor}" may not run "${commandKey(spec)}", which needs the ${String(spec.role)} role; list "${actor}" under access.roles.${String(spec.role)}`);
      }
      if (environment !== undefined) {
        for (const m of missingForNeeds(config, environment, spec.requires ?? [])) {
          problems.push(`${m.path} is required by schedules.${i} ("${s.name}") for "${commandKey(spec)}": ${m.reason}`);
        }
      }
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
}

type ScheduleRun = { readonly name: string; readonly command: string; readonly announce?: Config['schedules'][number]['announce'] };

/** Runs one configured schedule now, exactly as its cron task does (the task's body; tests call it directly). */
export async function runSchedule(s: ScheduleRun, deps: CommandDeps, hooks: SchedulerHooks = {}): Promise<Reply> {
  const firedAt = deps.now();
  const reply = await execute(s.command, { actor: `scheduler:${s.name}`, source: 'scheduler' }, deps);
  deps.log[reply.ok ? 'info' : 'warn']({ schedule: s.name, code: reply.code, exitCode: reply.exitCode }, 'scheduled command finished');
  try {
    await hooks.onReply?.(reply, { name: s.name, command: s.command });
  } catch (err) {
    deps.log.error({ err, schedule: s.name }, 'scheduled command reply not delivered');
  }
  try {
    await announceOutcome(s, reply, firedAt, deps);
  } catch (err) {
    deps.log.error({ err: deps.redactor.text((err as Error).message), schedule: s.name }, 'scheduled command outcome not announced');
  }
  return reply;
}

/**
 * Posts what a scheduled run did to the ops room through the outbox (chat, or email while chat is down; email
 * alone without chat), so a nightly backup that failed at 2 am is in front of the team in the morning rather
 * than only in the log. Once per schedule and minute fired: a retried delivery does not post twice.
 */
async function announceOutcome(s: ScheduleRun, reply: Reply, firedAt: Date, deps: CommandDeps): Promise<void> {
  const mode = s.announce ?? 'always';
  // the approval prompt is the announcement (onReply posts it)
  if (awaitsApproval(reply) || mode === 'never' || (mode === 'failures' && reply.ok)) return;
  const text = `${reply.ok ? '✅' : '❌'} Scheduled "${s.command}" (${s.name}) ${reply.ok ? 'finished' : 'failed'}:\n${reply.text}`;
  await announceOnce(deps, `schedule:${s.name}:${firedAt.toISOString().slice(0, 16)}`, `[aks-bot] scheduled ${s.name}: ${reply.ok ? 'done' : 'failed'}`, text);
}

/** Starts one cron task per configured schedule; each run goes through the same registry as chat and the CLI. */
export function startScheduler(deps: CommandDeps, hooks: SchedulerHooks = {}): { stop(): Promise<void>; tasks: ScheduledTask[] } {
  validateSchedules(deps.config, deps.registry);
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
