import { createTask } from 'node-cron';

/** The next `count` times a cron expression fires, from node-cron's own matcher (so they agree with the runs). */
export function nextRuns(cron: string, timezone: string, _from: Date, count: number): Date[] {
  // node-cron computes from the current time; `_from` is kept in the signature for when it accepts a start date
  const task = createTask(cron, () => undefined, { timezone, name: 'preview' });
  try {
    return task.getNextRuns(count);
  } finally {
    void task.destroy();
  }
}
