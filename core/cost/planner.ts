// The credit planner: with the credit, the billing period and two burn rates — while the cluster runs, and while it
// is torn down (disks, IPs, storage and snapshots in the durable group keep billing) — when is the latest moment to
// tear down so the credit lasts to the end of the period, and how do the teardown policies compare.
import { DAY_MS, type BillingPeriod } from './period.js';

export interface PlanInput {
  readonly period: BillingPeriod;
  readonly now: Date;
  /** Usable credit: credit − safety margin. */
  readonly budgetUsd: number;
  readonly costToDateUsd: number;
  readonly runningPerDayUsd: number;
  readonly tornDownPerDayUsd: number;
  /** Tear down this many days before the latest safe moment (teardown.daysBeforeExhaustion). */
  readonly reserveDays: number;
}

export interface Plan {
  /** undefined: the credit lasts the period with the cluster running. */
  readonly latestSafeTeardown: Date | undefined;
  readonly plannedTeardown: Date | undefined;
  /** The next period starts: the subscription is enabled again and the cluster can be recreated. */
  readonly recreateAt: Date;
  readonly uptimeDaysThisPeriod: number;
  /** Even torn down now, the credit would not last the period. */
  readonly shortEvenIfTornDownNow: boolean;
}

export function planTeardown(i: PlanInput): Plan {
  const daysLeft = Math.max(0, (i.period.end.getTime() - i.now.getTime()) / DAY_MS);
  const elapsed = (i.now.getTime() - i.period.start.getTime()) / DAY_MS;
  const left = i.budgetUsd - i.costToDateUsd;
  // Running x days then torn down for the rest: left = run·x + down·(daysLeft − x)  →  x = (left − down·daysLeft) / (run − down)
  const ifDownNow = i.tornDownPerDayUsd * daysLeft;
  const shortEvenIfTornDownNow = ifDownNow > left;
  const extra = i.runningPerDayUsd - i.tornDownPerDayUsd;
  let x: number;
  if (shortEvenIfTornDownNow) x = 0;
  else if (extra <= 0 || i.runningPerDayUsd * daysLeft <= left) x = Infinity;
  else x = (left - ifDownNow) / extra;
  if (x >= daysLeft) {
    return { latestSafeTeardown: undefined, plannedTeardown: undefined, recreateAt: i.period.end, uptimeDaysThisPeriod: elapsed + daysLeft, shortEvenIfTornDownNow };
  }
  const latest = new Date(i.now.getTime() + x * DAY_MS);
  const planned = new Date(Math.max(i.now.getTime(), latest.getTime() - i.reserveDays * DAY_MS));
  return {
    latestSafeTeardown: latest,
    plannedTeardown: planned,
    recreateAt: i.period.end,
    uptimeDaysThisPeriod: (planned.getTime() - i.period.start.getTime()) / DAY_MS,
    shortEvenIfTornDownNow,
  };
}

export interface PolicyOutcome {
  readonly policy: string;
  readonly uptimeDays: number;
  readonly costUsd: number;
  /** Day of the period (from 0) when the usable credit runs out, if it does: the subscription is then disabled. */
  readonly exhaustedOnDay: number | undefined;
}

/** Cost of being up for `upDays` out of `days` (up first), and when the budget runs out, if it does. */
function outcome(policy: string, days: number, upDays: number, run: number, down: number, budget: number): PolicyOutcome {
  const up = Math.min(days, Math.max(0, upDays));
  const cost = run * up + down * (days - up);
  let exhaustedOnDay: number | undefined;
  if (cost > budget) exhaustedOnDay = budget <= run * up ? budget / run : up + (budget - run * up) / down;
  return { policy, uptimeDays: exhaustedOnDay !== undefined ? Math.min(up, exhaustedOnDay) : up, costUsd: Math.min(cost, budget), exhaustedOnDay };
}

/**
 * Whole-period comparison from the period start. Fixed days is the seed's calendar (recreate on day 2, teardown after
 * the backup on day 12); nights-off keeps the cluster up 16 h a day with the user pools scaled to zero at night, so
 * it burns in between; budget-driven tears down at the planned moment.
 */
export function comparePolicies(p: { period: BillingPeriod; budgetUsd: number; runningPerDayUsd: number; tornDownPerDayUsd: number; reserveDays: number }): PolicyOutcome[] {
  const { period, budgetUsd: b, runningPerDayUsd: run, tornDownPerDayUsd: down } = p;
  const days = period.days;
  const budgetDriven = planTeardown({ period, now: period.start, budgetUsd: b, costToDateUsd: 0, runningPerDayUsd: run, tornDownPerDayUsd: down, reserveDays: p.reserveDays });
  const nightsRun = down + (run - down) * (16 / 24);
  const nights = planTeardown({ period, now: period.start, budgetUsd: b, costToDateUsd: 0, runningPerDayUsd: nightsRun, tornDownPerDayUsd: down, reserveDays: p.reserveDays });
  return [
    // Seed: recreated on day 2 (index 1), torn down on day 12 (index 11): 10 days up, down for the rest.
    outcome('fixed days (recreate day 2, teardown day 12)', days, 10, run, down, b),
    outcome(`budget-driven teardown (${p.reserveDays}-day reserve)`, days, budgetDriven.uptimeDaysThisPeriod, run, down, b),
    outcome(`nights off + budget-driven teardown (${p.reserveDays}-day reserve)`, days, nights.uptimeDaysThisPeriod, nightsRun, down, b),
  ];
}
