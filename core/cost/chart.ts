// The cost chart as a PNG, drawn server-side with @napi-rs/canvas (Skia, prebuilt in its registry package: no
// browser, no native build). Daily cost bars, cumulative cost against the credit line, the band between the
// forecast and burn projections, and markers for the planned teardown and the recreate.
import { createCanvas, type SKRSContext2D } from '@napi-rs/canvas';
import type { ForecastDay } from '../clients/arm/types.js';
import type { DailyTotal } from './credit.js';
import { DAY_MS, dayStart, type BillingPeriod } from './period.js';

export interface ChartInput {
  readonly environment: string;
  readonly period: BillingPeriod;
  readonly now: Date;
  readonly creditUsd: number;
  readonly safetyMarginUsd: number;
  readonly daily: readonly DailyTotal[];
  readonly forecast?: readonly ForecastDay[];
  readonly burnPerDayUsd?: number;
  readonly plannedTeardown?: Date;
  readonly recreateAt?: Date;
  readonly width?: number;
  readonly height?: number;
}

export const CHART_COLORS = {
  credit: '#d62728',
  margin: '#ff9896',
  cumulative: '#1f3b73',
  bars: '#9fb7d9',
  band: 'rgba(255, 165, 0, 0.30)',
  teardown: '#7b2cbf',
  recreate: '#2ca02c',
} as const;

export interface ChartLayout {
  readonly width: number;
  readonly height: number;
  readonly left: number;
  readonly right: number;
  readonly top: number;
  readonly bottom: number;
  readonly maxUsd: number;
  x(t: Date): number;
  y(usd: number): number;
}

interface Projection {
  /** End of the last billed day, where the projections start. */
  readonly lastT: Date;
  readonly cum: number;
  /** Cumulative cost at the period end by Azure's forecast / by the recent burn; undefined without one. */
  readonly fcEnd: number | undefined;
  readonly burnEnd: number | undefined;
}

function projection(input: ChartInput): Projection {
  const sorted = [...input.daily].sort((a, b) => a.date.localeCompare(b.date));
  const cum = sorted.reduce((a, d) => a + d.cost, 0);
  const lastT = sorted.length ? new Date(dayStart((sorted.at(-1) as DailyTotal).date).getTime() + DAY_MS) : input.period.start;
  const fc = (input.forecast ?? []).filter((f) => f.status === 'Forecast' && dayStart(f.date) >= lastT);
  return {
    lastT,
    cum,
    fcEnd: fc.length ? cum + fc.reduce((a, f) => a + f.cost, 0) : undefined,
    burnEnd: input.burnPerDayUsd !== undefined ? cum + input.burnPerDayUsd * ((input.period.end.getTime() - lastT.getTime()) / DAY_MS) : undefined,
  };
}

export function chartLayout(input: ChartInput): ChartLayout {
  const width = input.width ?? 800;
  const height = input.height ?? 450;
  const [left, right, top, bottom] = [64, width - 24, 40, height - 48];
  const p = projection(input);
  const maxUsd = Math.max(input.creditUsd, p.cum, p.fcEnd ?? 0, p.burnEnd ?? 0) * 1.1;
  const span = input.period.end.getTime() - input.period.start.getTime();
  return {
    width,
    height,
    left,
    right,
    top,
    bottom,
    maxUsd,
    x: (t) => left + ((t.getTime() - input.period.start.getTime()) / span) * (right - left),
    y: (usd) => bottom - (usd / maxUsd) * (bottom - top),
  };
}

function hline(ctx: SKRSContext2D, l: ChartLayout, usd: number, color: string, dash: number[]): void {
  ctx.strokeStyle = color;
  ctx.lineWidth = 2;
  ctx.setLineDash(dash);
  ctx.beginPath();
  ctx.moveTo(l.left, Math.round(l.y(usd)) + 0.5);
  ctx.lineTo(l.right, Math.round(l.y(usd)) + 0.5);
  ctx.stroke();
  ctx.setLineDash([]);
}

function vmarker(ctx: SKRSContext2D, l: ChartLayout, t: Date, color: string, label: string): void {
  const x = Math.round(l.x(t)) + 0.5;
  ctx.strokeStyle = color;
  ctx.lineWidth = 2;
  ctx.setLineDash([6, 4]);
  ctx.beginPath();
  ctx.moveTo(x, l.top);
  ctx.lineTo(x, l.bottom);
  ctx.stroke();
  ctx.setLineDash([]);
  ctx.fillStyle = color;
  ctx.fillText(label, Math.min(x + 4, l.right - 70), l.top + 12);
}

export function renderCostChart(input: ChartInput): Buffer {
  const l = chartLayout(input);
  const canvas = createCanvas(l.width, l.height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, l.width, l.height);
  ctx.font = '12px sans-serif';

  // Axes and day ticks.
  ctx.strokeStyle = '#888888';
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(l.left, l.top);
  ctx.lineTo(l.left, l.bottom);
  ctx.lineTo(l.right, l.bottom);
  ctx.stroke();
  ctx.fillStyle = '#333333';
  for (let d = 0; d <= input.period.days; d += 5) {
    const t = new Date(input.period.start.getTime() + d * DAY_MS);
    ctx.fillText(t.toISOString().slice(5, 10), l.x(t) - 14, l.bottom + 16);
  }
  for (let v = 0; v <= l.maxUsd; v += 50) ctx.fillText(`$${v}`, 8, l.y(v) + 4);

  // Daily bars on their own scale in the lower third, so small days stay visible next to the cumulative line.
  const maxDaily = Math.max(1, ...input.daily.map((d) => d.cost));
  const barH = (l.bottom - l.top) / 3;
  const dayW = (l.right - l.left) / input.period.days;
  ctx.fillStyle = CHART_COLORS.bars;
  for (const d of input.daily) {
    const h = (d.cost / maxDaily) * barH;
    ctx.fillRect(l.x(dayStart(d.date)) + 1, l.bottom - h, Math.max(1, dayW - 2), h);
  }

  // Cumulative actual cost.
  const proj = projection(input);
  let cum = 0;
  ctx.strokeStyle = CHART_COLORS.cumulative;
  ctx.lineWidth = 3;
  ctx.beginPath();
  ctx.moveTo(l.x(input.period.start), l.y(0));
  for (const d of [...input.daily].sort((a, b) => a.date.localeCompare(b.date))) {
    cum += d.cost;
    ctx.lineTo(l.x(new Date(dayStart(d.date).getTime() + DAY_MS)), l.y(cum));
  }
  ctx.stroke();

  // Band between the two projections to the end of the period: Azure's forecast and the recent burn.
  const ends = [proj.fcEnd, proj.burnEnd].filter((v): v is number => v !== undefined);
  if (ends.length) {
    ctx.fillStyle = CHART_COLORS.band;
    ctx.beginPath();
    // At least 6 px tall at the end: when the forecast and the burn agree the band would otherwise vanish.
    const yLow = l.y(Math.min(...ends)) + 3;
    const yHigh = Math.min(l.y(Math.max(...ends)) - 3, yLow - 6);
    ctx.moveTo(l.x(proj.lastT), l.y(proj.cum));
    ctx.lineTo(l.x(input.period.end), yHigh);
    ctx.lineTo(l.x(input.period.end), yLow);
    ctx.closePath();
    ctx.fill();
  }
  const endT = input.period.end;

  // The credit, and the usable credit after the safety margin, drawn last so nothing hides them.
  hline(ctx, l, input.creditUsd - input.safetyMarginUsd, CHART_COLORS.margin, [4, 4]);
  hline(ctx, l, input.creditUsd, CHART_COLORS.credit, []);
  ctx.fillStyle = CHART_COLORS.credit;
  ctx.fillText(`credit $${input.creditUsd}`, l.right - 90, l.y(input.creditUsd) - 6);

  if (input.plannedTeardown) vmarker(ctx, l, input.plannedTeardown, CHART_COLORS.teardown, 'teardown');
  if (input.recreateAt) vmarker(ctx, l, new Date(Math.min(input.recreateAt.getTime(), endT.getTime()) - 1), CHART_COLORS.recreate, 'recreate');

  ctx.fillStyle = '#333333';
  ctx.fillText('bars: daily cost (own scale)   line: cumulative   band: forecast … recent burn', l.left, l.height - 12);
  ctx.fillStyle = '#111111';
  ctx.font = 'bold 14px sans-serif';
  ctx.fillText(`${input.environment}: cost against the $${input.creditUsd} credit, ${input.period.key} → ${endT.toISOString().slice(0, 10)}`, l.left, 22);
  return canvas.toBuffer('image/png');
}
