import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { ExecError } from '../errors/app-error.js';

/** How long a stopped process group gets between SIGTERM and SIGKILL. */
export const KILL_GRACE_MS = 2_000;
const POLL_MS = 20;

interface LiveGroup {
  readonly command: string;
  /** The watchdog that kills the group if this process dies without running its exit hook (kill -9). */
  watchdog?: ChildProcess;
  stopping?: Promise<void>;
}

/**
 * Every child the exec chokepoint starts leads its own process group (`detached: true`, which is setsid(2) on
 * Linux), so one signal reaches the tool and anything it spawned. The registry is process-wide on purpose: the
 * `exit` hook and a shutdown have to find every group whichever run started it (docs/child-processes.md).
 */
const live = new Map<number, LiveGroup>();
let hooked = false;

export interface LiveProcessGroup {
  readonly pgid: number;
  readonly command: string;
}

/** The groups started through core/exec that still have a member. */
export function liveProcessGroups(): LiveProcessGroup[] {
  return [...live].map(([pgid, g]) => ({ pgid, command: g.command }));
}

/**
 * True while the group has a member that is not a zombie. kill(-pgid, 0) also counts zombies: a grandchild killed
 * after its parent died is reparented to PID 1, and when the bot itself is PID 1 (a container without an init) it
 * is never reaped; so on Linux a positive answer is checked against /proc.
 */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  return hasRunningMember(pgid);
}

function hasRunningMember(pgid: number): boolean {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return true; // no /proc: trust kill(2)
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const st = procStat(Number(name));
    if (st && st.pgrp === pgid && st.state !== 'Z') return true;
  }
  return false;
}

/** State and process group from /proc/<pid>/stat; undefined when the process is gone or /proc is absent. */
export function procStat(pid: number): { state: string; pgrp: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so split after the last ")"
    const [state, , pgrp] = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return state && pgrp ? { state, pgrp: Number(pgrp) } : undefined;
  } catch {
    return undefined;
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is already gone
  }
}

function forget(pgid: number): void {
  const g = live.get(pgid);
  if (!g) return;
  live.delete(pgid);
  g.watchdog?.kill('SIGKILL');
}

/**
 * SIGTERM to the whole group, SIGKILL to whatever is left after `graceMs`, resolved once the group is empty.
 * Calling it again while it runs returns the same promise.
 */
export function stopGroup(pgid: number, graceMs = KILL_GRACE_MS): Promise<void> {
  const g = live.get(pgid);
  // only groups this process started: a pgid no longer registered may already be someone else's
  if (!g) return Promise.resolve();
  if (g.stopping) return g.stopping;
  const stopping = (async () => {
    signalGroup(pgid, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (groupAlive(pgid) && Date.now() < deadline) await sleep(POLL_MS);
    if (groupAlive(pgid)) signalGroup(pgid, 'SIGKILL');
    // a SIGKILLed process is gone as soon as it is reaped; the bound only guards against an unkillable (D state) one
    for (let i = 0; i < 250 && groupAlive(pgid); i++) await sleep(POLL_MS);
    forget(pgid);
  })();
  g.stopping = stopping;
  return stopping;
}

/**
 * Stops every live group (SIGTERM, then SIGKILL after `graceMs`) and resolves when they are gone: what a shutdown
 * awaits before the process exits. The `exit` hook does the same synchronously with SIGKILL.
 */
export async function killAllChildren(graceMs = KILL_GRACE_MS): Promise<void> {
  const stopping = Promise.all([...live.keys()].map((pgid) => stopGroup(pgid, graceMs)));
  // a shutdown never hangs on a group that will not go (an unkillable process in D state): SIGKILL is all there is
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs + 10_000)));
  await Promise.race([stopping, bound]);
  clearTimeout(timer);
  killAllChildrenNow();
}

/** SIGKILL to every live group, synchronously: all an `exit` listener may do. */
export function killAllChildrenNow(): void {
  for (const pgid of [...live.keys()]) {
    signalGroup(pgid, 'SIGKILL');
    forget(pgid);
  }
}

export interface SupervisedGroup {
  /** Resolves once the leader has exited and its group is empty (stragglers are stopped, not waited for forever). */
  readonly ended: Promise<void>;
  /** Sends `signal` to the whole group. */
  signal(signal: NodeJS.Signals): void;
}

/**
 * Takes charge of a child started with `detached: true`: registers its group, stops the group when `abort` fires,
 * stops what the tool left in its group when the tool itself exits (nothing outlives its run), and starts a
 * watchdog that kills the group if this process is killed outright.
 */
export function superviseGroup(child: ChildProcess, command: string, opts: { signal?: AbortSignal; graceMs?: number } = {}): SupervisedGroup {
  const pgid = child.pid;
  if (pgid === undefined) return { ended: Promise.resolve(), signal: () => undefined };
  if (!hooked) {
    hooked = true;
    process.on('exit', killAllChildrenNow);
  }
  live.set(pgid, { command, watchdog: startWatchdog(pgid) });
  const onAbort = () => void stopGroup(pgid, opts.graceMs);
  const ended = new Promise<void>((resolve) => {
    child.once('exit', () => {
      opts.signal?.removeEventListener('abort', onAbort);
      if (!groupAlive(pgid)) {
        forget(pgid);
        resolve();
        return;
      }
      void stopGroup(pgid, opts.graceMs).then(resolve);
    });
  });
  if (opts.signal?.aborted) onAbort();
  else opts.signal?.addEventListener('abort', onAbort, { once: true });
  return { ended, signal: (s) => signalGroup(pgid, s) };
}

/**
 * A `sh` that blocks reading a pipe only this process holds open, and kills the group when the pipe closes: when
 * this process dies by any means, SIGKILL included, the kernel closes the pipe. It lives in its own session, so a
 * terminal's Ctrl-C or a signal to this process's group does not reach it. Killed when its group is stopped or ends.
 */
function startWatchdog(pgid: number): ChildProcess | undefined {
  try {
    const w = spawn('sh', ['-c', 'while read -r _; do :; done; kill -KILL "-$1" 2>/dev/null', 'aks-exec-watchdog', String(pgid)], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    w.on('error', () => undefined);
    w.stdin?.on('error', () => undefined);
    // neither the watchdog nor its pipe may keep the event loop (and so the bot) alive
    w.unref();
    (w.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    return w;
  } catch {
    return undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The error of a child stopped because its run was cancelled: coded, with the signal's reason as its cause. */
export function cancelledError(command: string, stderr: string, signal: AbortSignal | undefined): ExecError {
  return new ExecError('AKS_EXEC_FAILED', { command, stderr: `${stderr}${stderr && !stderr.endsWith('\n') ? '\n' : ''}stopped: its run was cancelled` }, { cause: signal?.reason });
}
