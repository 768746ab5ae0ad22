import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { every } from '../../../scheduler/periodic.js';
import { testDeps } from '../../helpers/deps.js';

describe('every (the watch jobs\' timer)', () => {
  it('never runs a job twice at once: a run asked for while one is going joins it', async () => {
    const { log } = testDeps();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started = 0;
    const p = every('t', 3_600_000, async () => {
      started++;
      await gate;
    }, log);
    const a = p.runNow();
    const b = p.runNow();
    expect(started).toBe(1);
    release();
    await Promise.all([a, b]);
    await p.runNow();
    expect(started).toBe(2);
    await p.stop();
  });

  it('logs a failing run and keeps the schedule; stop waits for the run going and ends the schedule', async () => {
    const deps = testDeps();
    let runs = 0;
    const p = every('flaky', 5, async () => {
      runs++;
      if (runs === 1) throw new Error('Azure hiccup');
    }, deps.log, { runAtStart: true });
    for (let i = 0; i < 200 && runs < 3; i++) await sleep(5);
    await p.stop();
    expect(runs).toBeGreaterThanOrEqual(3);
    expect(deps.logs.text).toContain('periodic job failed; the next run retries');
    const after = runs;
    await sleep(30);
    expect(runs).toBe(after);
  });
});
