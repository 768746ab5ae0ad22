import type { ContainerClient } from '@azure/storage-blob';
import type { BackupSetStore } from '../store/types.js';
import { archiveBlobName, manifestBlobName } from './manifest.js';
import { manifestSignatureBlobName } from './signature.js';
import type { SetListing } from './read-set.js';

export interface RetentionPolicy {
  readonly daily: number;
  readonly weekly: number;
  readonly monthly: number;
  /** A set without a manifest younger than this may be a backup still running: left alone. */
  readonly incompleteGraceHours: number;
}

export interface RetentionInput {
  readonly id: string;
  readonly createdAt: Date;
  readonly complete: boolean;
  readonly verified: boolean;
}

export interface RetentionPlan {
  readonly keep: readonly { readonly id: string; readonly reasons: readonly string[] }[];
  readonly remove: readonly { readonly id: string; readonly reason: string }[];
}

const day = (d: Date) => d.toISOString().slice(0, 10);
const month = (d: Date) => d.toISOString().slice(0, 7);
/** ISO week (Monday start), as YYYY-Www, in UTC. */
function week(d: Date): string {
  const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  const dow = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - dow);
  const yearStart = Date.UTC(t.getUTCFullYear(), 0, 1);
  const w = Math.ceil(((t.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${t.getUTCFullYear()}-W${String(w).padStart(2, '0')}`;
}

/**
 * Grandfather-father-son: the newest complete set of each of the last `daily` days, `weekly` ISO weeks and
 * `monthly` months that have sets. The newest verified set is always kept, whatever its age, because teardown
 * and recreate depend on it. Pure: the same input gives the same plan, which the dry run shows.
 */
export function planRetention(sets: readonly RetentionInput[], policy: RetentionPolicy, now: Date): RetentionPlan {
  const complete = sets.filter((s) => s.complete).sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.id.localeCompare(a.id));
  const reasons = new Map<string, string[]>();
  const keep = (id: string, why: string) => reasons.set(id, [...(reasons.get(id) ?? []), why]);
  const bucket = (label: string, n: number, key: (d: Date) => string) => {
    const seen = new Set<string>();
    for (const s of complete) {
      const k = key(s.createdAt);
      if (seen.has(k)) continue;
      if (seen.size >= n) break;
      seen.add(k);
      keep(s.id, `${label} ${k}`);
    }
  };
  bucket('daily', policy.daily, day);
  bucket('weekly', policy.weekly, week);
  bucket('monthly', policy.monthly, month);
  const newestVerified = complete.find((s) => s.verified);
  if (newestVerified) keep(newestVerified.id, 'newest verified set');

  const remove: { id: string; reason: string }[] = [];
  for (const s of complete) if (!reasons.has(s.id)) remove.push({ id: s.id, reason: 'outside the daily/weekly/monthly retention' });
  const grace = policy.incompleteGraceHours * 3_600_000;
  for (const s of sets) {
    if (s.complete) continue;
    if (now.getTime() - s.createdAt.getTime() >= grace) remove.push({ id: s.id, reason: 'incomplete (no manifest): a failed or abandoned backup' });
    else keep(s.id, 'incomplete but recent: may still be running');
  }
  return { keep: [...reasons].map(([id, r]) => ({ id, reasons: r })), remove };
}

/** Retention inputs from the blob listing, with "verified" from the store (only a passed drill counts). */
export async function retentionInputs(listing: readonly SetListing[], store: BackupSetStore, environment: string): Promise<RetentionInput[]> {
  const verified = new Set((await store.listBackupSets(environment)).filter((r) => r.verifiedAt).map((r) => r.id));
  return listing.map((s) => ({ id: s.id, createdAt: s.lastModified, complete: s.hasManifest && s.hasArchive, verified: verified.has(s.id) }));
}

/**
 * Deletes what the plan removes: the manifest first, so a set interrupted half-way through deletion reads as
 * incomplete (never as a complete set whose archive is gone).
 */
export async function applyRetention(plan: RetentionPlan, deps: { container: ContainerClient; prefix: string; store: BackupSetStore; now: Date }): Promise<string[]> {
  const done: string[] = [];
  for (const { id } of plan.remove) {
    await deps.container.getBlockBlobClient(manifestBlobName(deps.prefix, id)).deleteIfExists();
    await deps.container.getBlockBlobClient(manifestSignatureBlobName(deps.prefix, id)).deleteIfExists();
    await deps.container.getBlockBlobClient(archiveBlobName(deps.prefix, id)).deleteIfExists();
    await deps.store.markBackupSetDeleted(id, deps.now);
    done.push(id);
  }
  return done;
}
