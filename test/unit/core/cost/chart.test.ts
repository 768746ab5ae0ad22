import { writeFileSync } from 'node:fs';
import { createCanvas, loadImage } from '@napi-rs/canvas';
import { describe, expect, it } from 'vitest';
import type { ForecastDay } from '../../../../core/clients/arm/types.js';
import { CHART_COLORS, chartLayout, renderCostChart, type ChartInput } from '../../../../core/cost/chart.js';
import { billingPeriod } from '../../../../core/cost/period.js';

const period = billingPeriod(new Date('2026-11-26T12:00:00Z'), 14);
const daily = Array.from({ length: 12 }, (_, i) => ({ date: new Date(Date.parse('2026-11-14T00:00:00Z') + i * 86_400_000).toISOString().slice(0, 10), cost: i === 5 ? 16 : 8 }));
const forecast: ForecastDay[] = Array.from({ length: 18 }, (_, i) => ({
  date: new Date(Date.parse('2026-11-26T00:00:00Z') + i * 86_400_000).toISOString().slice(0, 10),
  cost: 7,
  currency: 'USD',
  status: 'Forecast',
}));
const input: ChartInput = {
  environment: 'prod',
  period,
  now: new Date('2026-11-26T12:00:00Z'),
  creditUsd: 150,
  safetyMarginUsd: 10,
  daily,
  forecast,
  burnPerDayUsd: 9,
  plannedTeardown: new Date('2026-11-29T00:00:00Z'),
  recreateAt: period.end,
};

function hex(r: number, g: number, b: number): string {
  return `#${[r, g, b].map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

async function pixels(png: Buffer) {
  const img = await loadImage(png);
  const c = createCanvas(img.width, img.height);
  const ctx = c.getContext('2d');
  ctx.drawImage(img, 0, 0);
  const data = ctx.getImageData(0, 0, img.width, img.height).data;
  return { width: img.width, height: img.height, at: (x: number, y: number) => { const i = (y * img.width + x) * 4; return hex(data[i]!, data[i + 1]!, data[i + 2]!); } };
}

describe('cost chart', () => {
  it('renders a PNG of the asked size', async () => {
    const png = renderCostChart({ ...input, width: 640, height: 360 });
    expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    expect(png.readUInt32BE(16)).toBe(640);
    expect(png.readUInt32BE(20)).toBe(360);
    if (process.env.CHART_OUT) writeFileSync(process.env.CHART_OUT, renderCostChart(input));
  });

  it('draws the credit line across the plot at the credit', async () => {
    const png = renderCostChart(input);
    const p = await pixels(png);
    const l = chartLayout(input);
    const y = Math.round(l.y(150));
    // Away from the label at the right end and the markers.
    for (const x of [l.left + 10, l.left + 100, Math.round(l.x(new Date('2026-11-20T00:00:00Z'))), l.left + 400]) {
      expect(p.at(x, y)).toBe(CHART_COLORS.credit);
    }
    expect(p.at(l.left + 100, y - 8)).toBe('#ffffff'); // a line, not a filled area
  });

  it('draws the cumulative cost and the teardown marker', async () => {
    const p = await pixels(renderCostChart(input));
    const l = chartLayout(input);
    // Cumulative after the first 6 days: 5×8 + 16 = 56 at 2026-11-20 00:00.
    const x = Math.round(l.x(new Date('2026-11-20T00:00:00Z')));
    const ys = [-1, 0, 1].map((d) => p.at(x, Math.round(l.y(56)) + d));
    expect(ys).toContain(CHART_COLORS.cumulative);
    const tx = Math.round(l.x(new Date('2026-11-29T00:00:00Z')));
    const column = Array.from({ length: 40 }, (_, i) => p.at(tx, l.top + 20 + i));
    expect(column).toContain(CHART_COLORS.teardown);
  });
});
