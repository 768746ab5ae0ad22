import type { Config, Role } from '../../core/config/schema.js';
import type { Logger } from '../../core/log/logger.js';
import type { Redactor } from '../../core/log/redact.js';
import type { RunSource, Store } from '../../core/store/types.js';
import type { FlagSpec } from './flags.js';

/** Where a command came from; every source goes through the same registry and checks. */
export type Source = RunSource;

export interface Invocation {
  /** Username (chat), the configured CLI user, or "scheduler:<name>". */
  readonly actor: string;
  readonly source: Source;
}

export interface CommandDeps {
  readonly config: Config;
  readonly store: Store;
  readonly log: Logger;
  readonly redactor: Redactor;
  readonly now: () => Date;
}

export interface CommandContext extends CommandDeps {
  readonly invocation: Invocation;
  /** The validated --env, for commands that act on an environment. */
  readonly environment: string | undefined;
}

export interface CommandOutput {
  readonly text: string;
  /** Machine-readable result for --json and the console. */
  readonly data?: unknown;
}

export type Args = Record<string, unknown>;

/** A handler that exists; commands whose issue has not landed have `unavailable` instead. */
export type Handler = (args: Args, ctx: CommandContext) => Promise<CommandOutput>;

export interface CommandSpec {
  readonly name: string;
  readonly sub?: string;
  readonly summary: string;
  /** A complete, valid invocation without the /aks or aks-bot prefix. */
  readonly example: string;
  readonly flags: Readonly<Record<string, FlagSpec>>;
  /** Lowest role allowed; 'anyone' for help. */
  readonly role: Role | 'anyone';
  /** Changes or removes infrastructure or data: needs an approval, accepts --dry-run. */
  readonly destructive: boolean;
  /** Takes --env (validated against the configured environments, defaulting to bot.defaultEnvironment). */
  readonly environment: 'required' | 'optional' | 'none';
  readonly handler?: Handler;
  /** For a destructive command: the steps it would take, shown by --dry-run and in the approval prompt. */
  readonly plan?: (args: Args, ctx: CommandContext) => Promise<string[]>;
  /** Why the command cannot run yet (which issue brings it); present exactly when handler is absent. */
  readonly unavailable?: string;
}
