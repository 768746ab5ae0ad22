import type { Logger } from '../core/log/logger.js';

export interface Periodic {
  /** Runs the job now, or joins the run already going (never two at once). */
  runNow(): Promise<void>;
  /** No further runs; waits for the one going, if any. */
  stop(): Promise<void>;
}

/**
 * A job every `intervalMs`, counted from the end of the previous run, so runs never overlap however long Azure
 * takes (node-cron's noOverlap for intervals that are not cron-shaped, like "every 7 minutes" or "every 36 h").
 * A failing run is logged and the next one still comes. Timers are unref'd: they never keep the process alive.
 */
export function every(name: string, intervalMs: number, job: () => Promise<void>, log: Logger, opts: { runAtStart?: boolean } = {}): Periodic {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  const runNow = (): Promise<void> => {
    running ??= (async () => {
      try {
        await job();
      } catch (err) {
        log.error({ job: name, err: (err as Error).message }, 'periodic job failed; the next run retries');
      } finally {
        running = undefined;
      }
    })();
    return running;
  };
  const arm = (ms: number): void => {
    if (stopped) return;
    timer = setTimeout(() => void runNow().then(() => arm(intervalMs)), ms);
    timer.unref();
  };
  arm(opts.runAtStart ? 0 : intervalMs);
  return {
    runNow,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
