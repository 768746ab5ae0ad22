import { AppError } from '../../errors/app-error.js';
import { describeHeld, type HeldLock } from '../../engine/lock.js';
import { locksOf } from '../../engine/run-scope.js';
import type { Args, CommandContext, CommandOutput } from '../types.js';

function environmentOf(ctx: CommandContext): string {
  if (!ctx.environment) throw new AppError('AKS_INTERNAL', { reference: 'lock-without-environment' });
  return ctx.environment;
}

const heldJson = (h: HeldLock) => ({
  holder: h.label,
  host: h.host ?? null,
  startedAt: h.startedAt?.toISOString() ?? null,
  expiresAt: h.expiresAt?.toISOString() ?? null,
  backend: h.backend,
});

/** `lock show`: who holds the environment's lock, read from where every host sees it. */
export async function lockShowHandler(_args: Args, ctx: CommandContext): Promise<CommandOutput> {
  const environment = environmentOf(ctx);
  const held = await locksOf(ctx).inspect(environment);
  if (!held) return { text: `Environment ${environment} is not locked.`, data: { environment, held: null } };
  const frees = held.expiresAt ? `it frees itself at ${held.expiresAt.toISOString()} unless renewed` : 'it frees itself within a minute unless renewed';
  return { text: `Environment ${environment} is locked by ${describeHeld(held)}; ${frees}.`, data: { environment, held: heldJson(held) } };
}

/** What `lock break` would do: shown by --dry-run and in the approval prompt. */
export async function lockBreakPlan(_args: Args, ctx: CommandContext): Promise<string[]> {
  const environment = environmentOf(ctx);
  const held = await locksOf(ctx).inspect(environment);
  if (!held) return [`Nothing to break: environment ${environment} is not locked now.`];
  return [
    `Break the lock of environment ${environment}, held by ${describeHeld(held)}.`,
    'That run is not stopped: if it is still alive it loses the lock at its next renewal and goes on without it, so break only a lock whose holder is gone.',
  ];
}

/**
 * `lock break`: frees a stuck lock (a holder that cannot be reached and will not let go), after an approval.
 * Recorded in the audit log with the holder it freed.
 */
export async function lockBreakHandler(_args: Args, ctx: CommandContext): Promise<CommandOutput> {
  const environment = environmentOf(ctx);
  const broken = await locksOf(ctx).breakLock(environment);
  await ctx.store.appendAudit({
    actor: ctx.invocation.actor,
    source: ctx.invocation.source,
    command: 'lock break',
    environment,
    result: 'ok',
    detail: (broken ? `broke the lock held by ${describeHeld(broken)}` : 'not locked; nothing broken').slice(0, 500),
  });
  if (!broken) return { text: `Environment ${environment} was not locked; nothing was broken.`, data: { environment, broken: null } };
  return { text: `Broke the lock of environment ${environment}, held by ${describeHeld(broken)}.`, data: { environment, broken: heldJson(broken) } };
}
