import { describe, expect, it } from 'vitest';
import { createRegistry } from '../../../../core/commands/definitions.js';
import { parseCommandText, validateArgs } from '../../../../core/commands/parse.js';
import { runCostCheck } from '../../../../core/cost/check.js';
import { chartInputFromReport, formatPlanReport } from '../../../../core/cost/plan-report.js';
import { openSqliteStore } from '../../../../core/store/sqlite.js';
import { testConfigWithEmail, testDeps } from '../../../helpers/deps.js';
import { MemoryReader } from './fake-reader.js';

const commandSpecs = createRegistry();

const config = testConfigWithEmail();

async function report(perDay: number, days: number, now: string, enqueueAlerts?: boolean) {
  const reader = new MemoryReader();
  reader.setDaily('2026-11-01', days, () => perDay);
  const store = openSqliteStore({ path: ':memory:' });
  const { log } = testDeps();
  const r = await runCostCheck('prod', { reader, outbox: store, config, log, now: new Date(now), ...(enqueueAlerts !== undefined ? { enqueueAlerts } : {}) });
  return { r, store };
}

describe('cost plan: the view argument', () => {
  it.each([
    ['cost --env prod', 'report'],
    ['cost plan --env prod', 'plan'],
    ['cost report', 'report'],
  ])('"%s" → view %s', (text, view) => {
    expect(validateArgs(parseCommandText(text, commandSpecs)).view).toBe(view);
  });

  it('rejects any other view', () => {
    expect(() => validateArgs(parseCommandText('cost forecast', commandSpecs))).toThrow(/report, plan/);
  });
});

describe('formatPlanReport', () => {
  it('says there is no plan yet without settled days', async () => {
    const { r } = await report(5, 0, '2026-11-01T06:00:00Z');
    expect(r.plan).toBeUndefined();
    expect(formatPlanReport(r)).toContain('No plan yet: there are not enough settled days');
  });

  it('says tear down now when even the durable resources outlast the credit', async () => {
    const { r } = await report(13, 10, '2026-11-11T12:00:00Z'); // 130 of the 140 usable
    expect(formatPlanReport(r)).toContain('Latest safe teardown: now. Even torn down now the credit will not last');
    expect(chartInputFromReport(r, config, new Date('2026-11-11T12:00:00Z')).plannedTeardown?.toISOString()).toBe('2026-11-11T12:00:00.000Z');
  });

  it('says no teardown is needed when the credit lasts the period', async () => {
    const { r } = await report(2, 10, '2026-11-11T12:00:00Z');
    const text = formatPlanReport(r);
    expect(text).toContain('Latest safe teardown: none needed');
    expect(text).toContain('Recreate: 2026-12-01 00:00 UTC');
    expect(text.match(/^ {2}\S.*days up/gm)).toHaveLength(3);
  });

  it('enqueues no alerts with enqueueAlerts: false, and does with the default', async () => {
    const quiet = await report(8, 10, '2026-11-11T12:00:00Z', false); // 53 %: the 50 % alert is due
    expect(quiet.r.alerts.fired).toEqual([]);
    expect(await quiet.store.claimDueNotifications(new Date('2026-11-11T12:00:00Z'), 10)).toHaveLength(0);
    const loud = await report(8, 10, '2026-11-11T12:00:00Z');
    expect(loud.r.alerts.fired).toEqual(['cost:prod:2026-11-01:threshold:50']);
  });
});
