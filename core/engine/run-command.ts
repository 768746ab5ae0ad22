import { AppError } from '../errors/app-error.js';
import type { Args, CommandDeps, CommandOutput, CommandSpec, Invocation } from '../commands/types.js';

/**
 * The one place a command's handler runs, whatever brought it: a direct call from chat, the App, the CLI or the
 * scheduler (core/commands/dispatch.ts, after parse → validate → authorize → approval), a run queued from chat, a
 * run approved later, or a run resumed after its process died (run-approved.ts). The handler gets the same context
 * in every case: the runtime's registry, store, clients, locks, clock and logger, who asked and from where, the
 * environment, the run it executes (when there is one: it journals into that run and takes the lock in its name)
 * and the run's abort signal.
 */
export function runHandler(spec: CommandSpec, args: Args, deps: CommandDeps, at: { readonly invocation: Invocation; readonly environment: string | undefined; readonly runId?: number }): Promise<CommandOutput> {
  if (!spec.handler) throw new AppError('AKS_NOT_AVAILABLE', { command: spec.sub ? `${spec.name} ${spec.sub}` : spec.name, reason: spec.unavailable ?? 'no handler' });
  return spec.handler(args, { ...deps, invocation: at.invocation, environment: at.environment, ...(at.runId !== undefined ? { runId: at.runId } : {}) });
}
