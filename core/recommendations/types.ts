// Cost recommendations in the bot's own words: what to change, why (the numbers), what it saves, and whether the
// bot may apply it. Built from Azure's inventory, the cost rows and the cluster's requests (recommend-rules.ts).
import { createHash } from 'node:crypto';

export const RECOMMENDATION_KINDS = ['pool-underused', 'vm-oversized', 'disk-premium', 'disk-orphaned', 'snapshot-old', 'ip-unassociated', 'monitoring-share'] as const;
export type RecommendationKind = (typeof RECOMMENDATION_KINDS)[number];

export type ApplyAction =
  | { readonly automatic: true; readonly action: 'delete-disk' | 'delete-snapshot' | 'delete-public-ip' }
  | { readonly automatic: true; readonly action: 'set-disk-sku'; readonly toSku: string }
  | { readonly automatic: false; readonly reason: string };

export interface Recommendation {
  /** `<kind>-<8 hex of the resource id>-<4 hex of the state it was based on>`: the same while nothing changes. */
  readonly id: string;
  readonly kind: RecommendationKind;
  readonly resourceId: string;
  readonly resourceName: string;
  readonly what: string;
  readonly why: string;
  /** The numbers the recommendation is based on, for --json and the audit. */
  readonly basis: Readonly<Record<string, number | string>>;
  readonly monthlySavingUsd: number;
  /** 'cost-rows': this resource's own billed cost; 'estimated': list prices or ratios (savingNote says which). */
  readonly savingSource: 'cost-rows' | 'estimated';
  readonly savingNote: string;
  readonly apply: ApplyAction;
}

/** A resource the rules looked at and deliberately left alone, with the reason (shown, so nothing is silent). */
export interface KeptResource {
  readonly resourceId: string;
  readonly reason: string;
}

export interface RecommendationSet {
  readonly recommendations: readonly Recommendation[];
  readonly kept: readonly KeptResource[];
  /** What could not be looked at and why (e.g. the cluster is torn down, no cost rows yet). */
  readonly notes: readonly string[];
}

const hex = (text: string, n: number) => createHash('sha256').update(text).digest('hex').slice(0, n);

/** Resource ids are case-insensitive in ARM, so the id hash is taken over the lowercased id. */
export function resourceHash(resourceId: string): string {
  return hex(resourceId.toLowerCase(), 8);
}

export function recommendationId(kind: RecommendationKind, resourceId: string, state: readonly unknown[]): string {
  return `${kind}-${resourceHash(resourceId)}-${hex(JSON.stringify(state), 4)}`;
}

export const RECOMMENDATION_ID_PATTERN = /^[a-z]+(?:-[a-z]+)*-[0-9a-f]{8}-[0-9a-f]{4}$/;

export function parseRecommendationId(id: string): { kind: string; resourceHash: string; stateHash: string } | undefined {
  const m = /^([a-z]+(?:-[a-z]+)*)-([0-9a-f]{8})-([0-9a-f]{4})$/.exec(id);
  return m ? { kind: m[1] as string, resourceHash: m[2] as string, stateHash: m[3] as string } : undefined;
}
