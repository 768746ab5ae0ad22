import { describe, expect, it } from 'vitest';
import { planRetention, type RetentionInput, type RetentionPolicy } from '../../../../core/backup/retention.js';

const policy: RetentionPolicy = { daily: 3, weekly: 2, monthly: 2, incompleteGraceHours: 24 };
const NOW = new Date('2026-11-26T12:00:00Z');

/** One set per day at 02:00 UTC for `days` days back from NOW (newest first). */
function daily(days: number, extra: Partial<Record<number, Partial<RetentionInput>>> = {}): RetentionInput[] {
  return Array.from({ length: days }, (_, i) => {
    const createdAt = new Date(Date.UTC(2026, 10, 26 - i, 2));
    return { id: createdAt.toISOString().slice(0, 10), createdAt, complete: true, verified: false, ...extra[i] };
  });
}

const ids = (xs: readonly { id: string }[]) => xs.map((x) => x.id).sort();

describe('retention (daily / weekly / monthly)', () => {
  it('keeps the newest set of each of the last N days, ISO weeks and months; removes the rest', () => {
    const plan = planRetention(daily(70), policy, NOW);
    expect(ids(plan.keep)).toEqual([
      '2026-10-31', // monthly 2026-10
      '2026-11-22', // weekly 2026-W47 (Sunday closes the week)
      '2026-11-24', // daily
      '2026-11-25', // daily
      '2026-11-26', // daily, weekly 2026-W48, monthly 2026-11
    ]);
    expect(plan.remove).toHaveLength(65);
    expect(plan.keep.find((k) => k.id === '2026-11-26')?.reasons).toEqual(['daily 2026-11-26', 'weekly 2026-W48', 'monthly 2026-11']);
  });

  it('never removes the newest verified set, however old', () => {
    const sets = daily(70, { 60: { verified: true }, 65: { verified: true } });
    const plan = planRetention(sets, policy, NOW);
    expect(plan.keep.find((k) => k.id === sets[60]!.id)?.reasons).toEqual(['newest verified set']);
    expect(ids(plan.remove)).toContain(sets[65]!.id);
  });

  it.each([
    ['a recent incomplete set (a backup may still be running) is kept', 2, false],
    ['an incomplete set past the grace period is removed', 30, true],
  ])('%s', (_name, hoursOld, removed) => {
    const partial: RetentionInput = { id: 'partial', createdAt: new Date(NOW.getTime() - hoursOld * 3_600_000), complete: false, verified: false };
    const plan = planRetention([...daily(2), partial], policy, NOW);
    expect(ids(plan.remove).includes('partial')).toBe(removed);
  });

  it('an incomplete set never counts as the day’s kept set', () => {
    const partial: RetentionInput = { id: 'partial', createdAt: new Date('2026-11-26T11:00:00Z'), complete: false, verified: false };
    const plan = planRetention([...daily(1), partial], { ...policy, daily: 1 }, NOW);
    expect(plan.keep.find((k) => k.id === '2026-11-26')?.reasons[0]).toBe('daily 2026-11-26');
  });

  it('is stable: planning twice gives the same result (the dry run shows what the real run does)', () => {
    const sets = daily(40, { 20: { verified: true } });
    expect(planRetention(sets, policy, NOW)).toEqual(planRetention([...sets].reverse(), policy, NOW));
  });
});
