import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dueCostAlerts } from '../../../../core/notification/alerts.js';
import { runCostCheck } from '../../../../core/cost/check.js';
import { creditStatus } from '../../../../core/cost/credit.js';
import { billingPeriod } from '../../../../core/cost/period.js';
import { createLogger } from '../../../../core/log/logger.js';
import { Redactor } from '../../../../core/log/redact.js';
import { openSqliteStore } from '../../../../core/store/sqlite.js';
import type { Store } from '../../../../core/store/types.js';
import { testConfig, testConfigWithEmail } from '../../../helpers/deps.js';
import { MemoryReader } from '../cost/fake-reader.js';

const config = testConfigWithEmail();
const log = createLogger({ level: 'silent', redactor: new Redactor() });

describe('dueCostAlerts', () => {
  const period = billingPeriod(new Date('2026-11-20T12:00:00Z'), 1);
  const now = new Date('2026-11-20T12:00:00Z');
  it.each([
    { spent: 74, expected: [] },
    { spent: 75, expected: ['threshold:50'] },
    { spent: 112.5, expected: ['threshold:50', 'threshold:75'] },
    { spent: 149, expected: ['threshold:50', 'threshold:75', 'threshold:90'] },
    { spent: 150, expected: ['threshold:50', 'threshold:75', 'threshold:90', 'threshold:100'] },
    { spent: 10, expected: [] },
  ])('at $spent of 150 USD: $expected', ({ spent, expected }) => {
    const status = creditStatus({ creditUsd: 150, safetyMarginUsd: 10, period, now, daily: [{ date: '2026-11-01', cost: spent }] });
    const due = dueCostAlerts({ environment: 'prod', period, status, thresholdsPct: [50, 75, 90, 100], leadDays: [], now });
    expect(due.map((a) => a.key.split(':').slice(-2).join(':'))).toEqual(expected);
    expect(due.every((a) => a.key.startsWith('cost:prod:2026-11-01:'))).toBe(true);
  });

  it.each([
    { daysLeft: 6, expected: [] },
    { daysLeft: 4.5, expected: ['lead:5'] },
    { daysLeft: 2, expected: ['lead:5', 'lead:3'] },
  ])('with exhaustion $daysLeft days ahead: $expected', ({ daysLeft, expected }) => {
    const status = creditStatus({
      creditUsd: 150,
      safetyMarginUsd: 10,
      period,
      now,
      daily: [],
      forecast: [{ date: '2026-11-20', cost: 140 / daysLeft, currency: 'USD', status: 'Forecast' }, ...Array.from({ length: 9 }, (_, i) => ({ date: `2026-11-2${i + 1}`, cost: 140 / daysLeft, currency: 'USD', status: 'Forecast' as const }))],
    });
    const due = dueCostAlerts({ environment: 'prod', period, status, thresholdsPct: [], leadDays: [5, 3], now });
    expect(due.map((a) => a.key.split(':').slice(-2).join(':'))).toEqual(expected);
  });
});

describe('cost alerts fire once per period, across restarts', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function check(store: Store, reader: MemoryReader, now: string) {
    return runCostCheck('prod', { reader, outbox: store, config, log, now: new Date(now) });
  }

  it('fires each threshold once, remembers it after a restart, and again next period', async () => {
    dir = mkdtempSync(join(tmpdir(), 'cost-alerts-'));
    const path = join(dir, 'state.sqlite');
    const reader = new MemoryReader();

    let store = openSqliteStore({ path });
    reader.setDaily('2026-11-01', 10, () => 8); // 80 of 150 = 53 %
    let r = await check(store, reader, '2026-11-11T12:00:00Z');
    expect(r.alerts.fired).toEqual(['cost:prod:2026-11-01:threshold:50']);
    r = await check(store, reader, '2026-11-11T18:00:00Z');
    expect(r.alerts.fired).toEqual([]);
    expect(r.alerts.alreadyFired).toEqual(['cost:prod:2026-11-01:threshold:50']);
    await store.close();

    store = openSqliteStore({ path }); // the bot restarts
    reader.setDaily('2026-11-01', 15, () => 8); // 120 = 80 %
    r = await check(store, reader, '2026-11-16T12:00:00Z');
    expect(r.alerts.fired.filter((k) => k.includes('threshold'))).toEqual(['cost:prod:2026-11-01:threshold:75']);
    const pending = await store.claimDueNotifications(new Date('2026-11-16T12:00:00Z'), 50);
    const thresholdMails = pending.filter((n) => n.dedupeKey.includes('threshold'));
    expect(thresholdMails.map((n) => n.dedupeKey).sort()).toEqual([
      'cost:prod:2026-11-01:threshold:50:email:ops@example.org',
      'cost:prod:2026-11-01:threshold:75:email:ops@example.org',
    ]);
    expect(thresholdMails[0]?.subject).toMatch(/% of the Azure credit used/);

    reader.setDaily('2026-12-01', 10, () => 8); // next period, 53 % again
    r = await check(store, reader, '2026-12-11T12:00:00Z');
    expect(r.alerts.fired).toEqual(['cost:prod:2026-12-01:threshold:50']);
    await store.close();
  });

  it('says so when alerts are due and nobody is configured to receive them', async () => {
    const store = openSqliteStore({ path: ':memory:' });
    const reader = new MemoryReader();
    reader.setDaily('2026-11-01', 10, () => 8);
    const r = await runCostCheck('prod', { reader, outbox: store, config: testConfig(), log, now: new Date('2026-11-11T12:00:00Z') });
    expect(r.alerts.fired).toEqual([]);
    expect(r.alerts.undeliverable).toEqual(['cost:prod:2026-11-01:threshold:50']);
    await store.close();
  });
});
