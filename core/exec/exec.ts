import { execa } from 'execa';
import { ExecError } from '../errors/app-error.js';
import type { Redactor } from '../log/redact.js';
import type { Logger } from '../log/logger.js';
import { cancelledError, KILL_GRACE_MS, superviseGroup } from './process-group.js';

export interface ExecOptions {
  cwd?: string;
  /** Added to the inherited environment; values are registered as secrets when named in `secretEnv`. */
  env?: Readonly<Record<string, string>>;
  /** Names of env entries that are secrets: passed to the child, never logged, masked in errors. */
  secretEnv?: readonly string[];
  timeoutMs?: number;
  input?: string;
  /**
   * The run's signal: aborting stops the child's whole process group (SIGTERM, SIGKILL after `killGraceMs`) and the
   * call rejects with AKS_EXEC_FAILED saying it was cancelled.
   */
  signal?: AbortSignal;
  killGraceMs?: number;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export type Exec = (command: string, args: readonly string[], opts?: ExecOptions) => Promise<ExecResult>;

const STDERR_KEPT = 4_000;

/**
 * The only place the bot starts child processes (helm, tofu, mongodump locally). Secrets go through the
 * environment, never argv (argv shows in process lists); failures become ExecError with command, exit code and
 * a redacted stderr tail. Each child leads its own process group, stopped with the run, on timeout and when the
 * bot exits (docs/child-processes.md). Unit tests replace this function; integration tests run it for real.
 */
export function createExec(deps: { redactor: Redactor; log: Logger }): Exec {
  const { redactor, log } = deps;
  return async (command, args, opts = {}) => {
    for (const name of opts.secretEnv ?? []) redactor.add(opts.env?.[name]);
    const shown = redactor.text([command, ...args].join(' '));
    const started = Date.now();
    const child = execa(command, [...args], {
      cwd: opts.cwd,
      env: opts.env,
      timeout: opts.timeoutMs,
      input: opts.input,
      reject: false,
      stripFinalNewline: false,
      cancelSignal: opts.signal,
      forceKillAfterDelay: opts.killGraceMs ?? KILL_GRACE_MS,
      detached: true,
    });
    // a timeout stops the leader; the group's exit sweep stops what it left behind
    const group = superviseGroup(child, shown, { signal: opts.signal, graceMs: opts.killGraceMs });
    const [r] = await Promise.all([child, group.ended]);
    log.debug({ command: shown, exitCode: r.exitCode, ms: Date.now() - started }, 'exec');
    const stderr = redactor.text(String(r.stderr ?? '')).slice(-STDERR_KEPT);
    if ((r as { code?: string }).code === 'ENOENT' || /ENOENT/.test(String(r.originalMessage ?? ''))) {
      throw new ExecError('AKS_EXEC_NOT_FOUND', { command, stderr: '' });
    }
    if (r.isCanceled) throw cancelledError(shown, stderr, opts.signal);
    if (r.timedOut) throw new ExecError('AKS_EXEC_TIMEOUT', { command: shown, stderr, timeoutMs: opts.timeoutMs ?? 0 });
    if (r.failed || r.exitCode !== 0) {
      throw new ExecError('AKS_EXEC_FAILED', { command: shown, exitCode: r.exitCode ?? -1, stderr });
    }
    return { stdout: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode ?? 0 };
  };
}
