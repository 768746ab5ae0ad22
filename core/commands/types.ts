import type { Clients } from '../clients/index.js';
import type { ClientNeed } from '../clients/requirements.js';
import type { Config, Role } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import type { Redactor } from '../log/redact.js';
import type { RunSource, Store } from '../store/types.js';
import type { EnvironmentLock } from '../engine/lock.js';
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
  /** Every command the bot knows (core/commands/definitions.ts in production; tests pass their own). */
  readonly registry: readonly CommandSpec[];
  /**
   * The clients of every environment, built once per process (bot/runtime.ts). Absent (tests that build their own
   * context), the handlers build clients through the same createClients for each use.
   */
  readonly clients?: Clients;
  /** Where a running run's latest progress line goes (the launcher's progress message); absent: only logged. */
  readonly progress?: RunProgressSink;
  /**
   * Runs long commands in the background with a progress message (chat and the App, which must answer at once);
   * absent (CLI, scheduler): they run inline and answer when done.
   */
  readonly background?: BackgroundRuns;
  /** Aborted when the run must stop (the bot shuts down); the work stops its tools and fails with a code. */
  readonly signal?: AbortSignal;
  /**
   * The environment lock (core/engine/lock.ts), chosen per environment by the runtime: a Blob lease where the
   * environment has a storage account, the store's leases otherwise; absent (tests): the store's.
   */
  readonly locks?: EnvironmentLock;
}

export interface RunProgressSink {
  /** The newest progress line of a run ("dump: 412 MB, 38 MB/s, rocketchat.users"); redacted, no secrets. */
  report(runId: number, text: string): void;
}

export interface BackgroundRuns {
  /** Starts a run created as 'queued' now; its handler then gets the run id in CommandContext.runId. */
  start(runId: number, plannedSteps: number): void;
  /** Where its progress is posted, for the acknowledgement ("progress in #ops"). */
  readonly where: string;
}

export interface CommandContext extends CommandDeps {
  readonly invocation: Invocation;
  /** The validated --env, for commands that act on an environment. */
  readonly environment: string | undefined;
  /** The run this invocation executes (an approved or background run); absent for a direct call. */
  readonly runId?: number;
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
  /**
   * What the command needs from its environment's configuration (core/clients/requirements.ts): a schedule of it
   * for an environment that lacks one fails the start with the setting's path, and so does the client when built.
   */
  readonly requires?: readonly ClientNeed[];
  readonly handler?: Handler;
  /** For a destructive command: the steps it would take, shown by --dry-run and in the approval prompt. */
  readonly plan?: (args: Args, ctx: CommandContext) => Promise<string[]>;
  /**
   * For a destructive command: whether this invocation may run without an approval besides the environment's
   * `teardown.unattended` (e.g. the scheduled prune with `backup.retention.unattended`).
   */
  readonly unattended?: (ctx: CommandContext) => boolean;
  /** Why the command cannot run yet (which issue brings it); present exactly when handler is absent. */
  readonly unavailable?: string;
}
