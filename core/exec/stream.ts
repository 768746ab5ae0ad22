import type { Readable, Writable } from 'node:stream';
import { execa } from 'execa';
import { ExecError } from '../errors/app-error.js';
import type { Logger } from '../log/logger.js';
import type { Redactor } from '../log/redact.js';
import { cancelledError, KILL_GRACE_MS, superviseGroup } from './process-group.js';

export interface StreamExecOptions {
  cwd?: string;
  /** Added to the inherited environment; entries named in `secretEnv` are masked in logs and errors. */
  env?: Readonly<Record<string, string>>;
  secretEnv?: readonly string[];
  /** 'pipe' gives a writable `stdin`; the default closes the child's stdin. */
  stdin?: 'pipe' | 'ignore';
  /** 'pipe' gives a readable `stdout`; 'ignore' discards it. */
  stdout?: 'pipe' | 'ignore';
  /**
   * The run's signal: aborting stops the child's whole process group (SIGTERM, SIGKILL after `killGraceMs`);
   * `done` then rejects with AKS_EXEC_FAILED saying it was cancelled.
   */
  signal?: AbortSignal;
  killGraceMs?: number;
  /** Called with each stderr line (redacted), e.g. to turn mongodump's progress into events. */
  onStderrLine?: (line: string) => void;
}

export interface StreamExit {
  readonly exitCode: number;
  /** The redacted tail of stderr. */
  readonly stderr: string;
}

export interface StreamingProcess {
  readonly stdout: Readable | null;
  readonly stdin: Writable | null;
  readonly pid: number | undefined;
  /** Resolves when the child exits 0; rejects with ExecError otherwise. Never leaves an unhandled rejection. */
  readonly done: Promise<StreamExit>;
  /** Sends `signal` to the child's whole process group. */
  kill(signal?: NodeJS.Signals): void;
}

export type StreamExec = (command: string, args: readonly string[], opts?: StreamExecOptions) => StreamingProcess;

const STDERR_KEPT = 4_000;

/**
 * The streaming side of the exec chokepoint (core/exec/exec.ts holds the buffered one): for programs whose output
 * is data, such as `mongodump --archive` to stdout or `mongorestore --archive` from stdin, nothing is buffered
 * beyond the stream's own high-water mark. Same rules: secrets only through env, never argv; failures are
 * ExecError with command, exit code and a redacted stderr tail. Each child leads its own process group, stopped
 * with the run (docs/child-processes.md).
 */
export function createStreamExec(deps: { redactor: Redactor; log: Logger }): StreamExec {
  const { redactor, log } = deps;
  return (command, args, opts = {}) => {
    for (const name of opts.secretEnv ?? []) redactor.add(opts.env?.[name]);
    const shown = redactor.text([command, ...args].join(' '));
    const started = Date.now();
    const child = execa(command, [...args], {
      cwd: opts.cwd,
      env: opts.env,
      stdin: opts.stdin ?? 'ignore',
      stdout: opts.stdout ?? 'pipe',
      stderr: 'pipe',
      buffer: false,
      reject: false,
      cancelSignal: opts.signal,
      forceKillAfterDelay: opts.killGraceMs ?? KILL_GRACE_MS,
      // its own process group: aborting reaches what the tool spawned, and a terminal's Ctrl-C does not
      detached: true,
    });
    const group = superviseGroup(child, shown, { signal: opts.signal, graceMs: opts.killGraceMs });
    let tail = '';
    let partial = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      tail = (tail + text).slice(-STDERR_KEPT * 2);
      if (!opts.onStderrLine) return;
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) opts.onStderrLine(redactor.text(line));
    });
    const done = Promise.all([child, group.ended]).then(([r]) => {
      const stderr = redactor.text(tail).slice(-STDERR_KEPT);
      log.debug({ command: shown, exitCode: r.exitCode, ms: Date.now() - started }, 'exec stream');
      if ((r as { code?: string }).code === 'ENOENT' || /ENOENT/.test(String(r.originalMessage ?? ''))) {
        throw new ExecError('AKS_EXEC_NOT_FOUND', { command, stderr: '' });
      }
      if (r.isCanceled) throw cancelledError(shown, stderr, opts.signal);
      if (r.failed || r.exitCode !== 0) {
        throw new ExecError('AKS_EXEC_FAILED', { command: shown, exitCode: r.exitCode ?? -1, stderr });
      }
      return { exitCode: 0, stderr };
    });
    // callers may look at `done` only after their pipeline settles; mark it handled so an early failure is not fatal
    done.catch(() => undefined);
    return {
      stdout: child.stdout ?? null,
      stdin: child.stdin ?? null,
      pid: child.pid,
      done,
      kill: (signal = 'SIGTERM') => group.signal(signal),
    };
  };
}
