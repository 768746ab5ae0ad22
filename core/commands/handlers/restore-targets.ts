import { AppError } from '../../errors/app-error.js';
import type { Args, CommandContext, CommandOutput, Handler } from '../types.js';

// `restore <target>`: one command, one part of a backup set per target. Each target brings its own handler and
// plan; a target not built yet says so plainly, before anything is read.

export type RestoreTarget = 'mongo' | 'cluster-state' | 'volumes';

export interface TargetHandlers {
  readonly handler: Handler;
  readonly plan: (args: Args, ctx: CommandContext) => Promise<string[]>;
}

function notBuilt(target: RestoreTarget, reason: string): TargetHandlers {
  const refuse = async (): Promise<never> => {
    throw new AppError('AKS_NOT_AVAILABLE', { command: `restore ${target}`, reason });
  };
  return { handler: refuse, plan: refuse };
}

/** The restore command's handler and plan, dispatching on `target`. */
export function restoreTargets(targets: { readonly mongo: TargetHandlers } & Partial<Record<Exclude<RestoreTarget, 'mongo'>, TargetHandlers>>): TargetHandlers {
  const all: Record<RestoreTarget, TargetHandlers> = {
    'cluster-state': notBuilt('cluster-state', 'restoring cluster state arrives with the cluster-state export'),
    volumes: notBuilt('volumes', 'restoring volumes from disk snapshots arrives with the snapshot work'),
    ...targets,
  };
  const pick = (args: Args) => all[args.target as RestoreTarget];
  return {
    handler: (args, ctx): Promise<CommandOutput> => pick(args).handler(args, ctx),
    plan: (args, ctx) => pick(args).plan(args, ctx),
  };
}
