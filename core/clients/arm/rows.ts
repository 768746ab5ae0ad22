// Cost Management answers in a table: `columns` [{name, type}] and `rows` of values in that order. Column order
// and the cost column's name depend on the query (Cost for ActualCost, PreTaxCost for Usage), so columns are
// looked up by name. UsageDate is a Number like 20261126 for daily granularity, or an ISO string in some answers.
import { z } from 'zod';
import { AppError } from '../../errors/app-error.js';

export const tableSchema = z.object({
  columns: z.array(z.object({ name: z.string(), type: z.string().optional() })),
  rows: z.array(z.array(z.unknown())),
  nextLink: z.string().nullish(),
});
export type CostTable = z.infer<typeof tableSchema>;

const COST_COLUMNS = ['Cost', 'PreTaxCost', 'CostUSD', 'PreTaxCostUSD'];

export class TableReader {
  private readonly index: Map<string, number>;
  constructor(
    private readonly table: CostTable,
    private readonly operation: string,
  ) {
    this.index = new Map(table.columns.map((c, i) => [c.name.toLowerCase(), i]));
  }

  private invalid(issues: string): AppError {
    return new AppError('AKS_AZURE_RESPONSE_INVALID', { operation: this.operation, issues });
  }

  col(name: string): number | undefined {
    return this.index.get(name.toLowerCase());
  }

  requireCol(...names: string[]): number {
    for (const n of names) {
      const i = this.col(n);
      if (i !== undefined) return i;
    }
    throw this.invalid(`no ${names.join('/')} column (columns: ${this.table.columns.map((c) => c.name).join(', ') || 'none'})`);
  }

  costCol(): number {
    return this.requireCol(...COST_COLUMNS);
  }

  number(row: readonly unknown[], i: number, r: number): number {
    const v = row[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw this.invalid(`row ${r}: expected a number in column ${i}, got ${JSON.stringify(v)}`);
    return v;
  }

  string(row: readonly unknown[], i: number | undefined, r: number): string | undefined {
    if (i === undefined) return undefined;
    const v = row[i];
    if (v === null || v === undefined || v === '') return undefined;
    if (typeof v !== 'string') throw this.invalid(`row ${r}: expected text in column ${i}, got ${JSON.stringify(v)}`);
    return v;
  }

  /** YYYY-MM-DD from 20261126 or "2026-11-26T00:00:00". */
  date(row: readonly unknown[], i: number, r: number): string {
    const v = row[i];
    if (typeof v === 'number' && Number.isInteger(v) && v >= 19_000_101 && v <= 29_991_231) {
      const s = String(v);
      return `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}`;
    }
    if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}/.test(v)) return v.slice(0, 10);
    throw this.invalid(`row ${r}: expected a UsageDate like 20261126, got ${JSON.stringify(v)}`);
  }
}
