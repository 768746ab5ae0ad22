import type { Logger } from '../log/logger.js';

/**
 * A pass that runs every `intervalMs` and never overlaps itself: a slow store must not stack passes on top of each
 * other. A failing pass is logged and the next one tries again. The timer is unref'd, so it never keeps the
 * process alive on its own.
 */
export abstract class Poller {
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<number> | undefined;

  protected constructor(
    private readonly pollerLog: Logger,
    private readonly intervalMs: number,
    /** Named in the log line of a failed pass. */
    private readonly what: string,
  ) {}

  /** One pass now (joins the running one); returns how many items it handed on. */
  poll(): Promise<number> {
    this.polling ??= this.pass().finally(() => (this.polling = undefined));
    return this.polling;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.poll().catch((err: unknown) => this.pollerLog.error({ err }, `${this.what} failed`)), this.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a pass in progress. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.polling?.catch(() => undefined);
  }

  protected abstract pass(): Promise<number>;
}
