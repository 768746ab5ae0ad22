import { setTimeout as sleep } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import { KubeApiError, type KubeJsonApi } from '../clients/kube/json-api.js';
import { AppError } from '../errors/app-error.js';
import type { Logger } from '../log/logger.js';
import { CERT_MANAGER_CRDS, collectionPath, importOrder, objectPath } from './resources.js';
import { stripServerFields } from './strip.js';
import { type KubeObject, objectRef } from './types.js';

/** The field manager of every server-side apply: `kubectl get -o yaml --show-managed-fields` names the bot. */
export const FIELD_MANAGER = 'aks-lifecycle-bot';

export interface ImportReport {
  /** Objects that did not exist and were created (dry run: would be). */
  readonly created: string[];
  /** Objects that exist exactly as the archive has them: not written. */
  readonly unchanged: string[];
  /** Objects that exist and differ from the archive: left as they are, with the fields that differ (never values). */
  readonly differs: { readonly object: string; readonly fields: string[] }[];
}

/**
 * Applies the archive's objects in dependency order (resources.ts) by server-side apply with FIELD_MANAGER.
 *
 * - An object that does not exist is created.
 * - One that exists is compared with what the apply would make of it (a server-side dry run, so defaults and
 *   other managers' fields count as the server counts them): the same → untouched; different → NOT applied and
 *   reported in `differs`. The restore never overwrites what someone changed since the export; who wants the
 *   archive's version deletes the object (or changes it back) and restores again (docs/cluster-state.md).
 * - `dryRun`: nothing is written; each object is checked by a server-side dry run where the cluster can already
 *   check it (its namespace and, for cert-manager objects, its CRD exist), and reported as it would be.
 *
 * A second import of the same archive finds everything unchanged and writes nothing.
 */
export async function applyClusterState(api: KubeJsonApi, objects: readonly KubeObject[], o: { backupId: string; dryRun: boolean; log: Logger; crdWaitMs?: number }): Promise<ImportReport> {
  const report: ImportReport = { created: [], unchanged: [], differs: [] };
  const plannedNamespaces = new Set(objects.filter((x) => x.kind === 'Namespace').map((x) => x.metadata.name));
  const plannedCrds = new Set(objects.filter((x) => x.kind === 'CustomResourceDefinition').map((x) => x.metadata.name));
  const existsCache = new Map<string, boolean>();
  const exists = async (path: string) => {
    if (!existsCache.has(path)) existsCache.set(path, (await api.get(path)) !== undefined);
    return existsCache.get(path)!;
  };
  const fail = (x: KubeObject, err: unknown) =>
    new AppError('AKS_CLUSTER_STATE_APPLY_FAILED', { object: objectRef(x), backupId: o.backupId, reason: err instanceof KubeApiError ? err.message.slice(0, 200) : String((err as Error).message ?? err).slice(0, 200) }, { cause: err });

  for (const x of importOrder(objects)) {
    const path = objectPath(x);
    const ref = objectRef(x);
    let current: Record<string, unknown> | undefined;
    try {
      current = await api.get(path);
    } catch (err) {
      // a cert-manager kind whose CRD the dry run has not created yet: the API does not know its path
      if (!(o.dryRun && err instanceof KubeApiError && err.statusCode === 404)) throw fail(x, err);
    }
    if (!current) {
      if (o.dryRun) {
        const crd = CERT_MANAGER_CRDS[x.kind as keyof typeof CERT_MANAGER_CRDS];
        const nsMissing = x.metadata.namespace !== undefined && plannedNamespaces.has(x.metadata.namespace) && !(await exists(`${collectionPath('Namespace')}/${x.metadata.namespace}`));
        const crdMissing = crd !== undefined && plannedCrds.has(crd) && !(await exists(`${collectionPath('CustomResourceDefinition')}/${crd}`));
        // what the restore creates first cannot be there for the server to check against yet
        if (!nsMissing && !crdMissing) await api.apply(path, x, { fieldManager: FIELD_MANAGER, dryRun: true }).catch((err: unknown) => Promise.reject(fail(x, err)));
      } else {
        await api.apply(path, x, { fieldManager: FIELD_MANAGER }).catch((err: unknown) => Promise.reject(fail(x, err)));
        if (x.kind === 'CustomResourceDefinition') await established(api, x, o.crdWaitMs ?? 30_000).catch((err: unknown) => Promise.reject(fail(x, err)));
        o.log.info({ object: ref, backupId: o.backupId }, 'cluster-state restore: created');
      }
      report.created.push(ref);
      continue;
    }
    let would: Record<string, unknown>;
    try {
      would = await api.apply(path, x, { fieldManager: FIELD_MANAGER, force: true, dryRun: true });
    } catch (err) {
      throw fail(x, err);
    }
    const fields = differingFields(stripServerFields(current), stripServerFields(would));
    if (fields.length === 0) report.unchanged.push(ref);
    else {
      report.differs.push({ object: ref, fields });
      o.log.warn({ object: ref, fields, backupId: o.backupId }, 'cluster-state restore: the object differs from the backup; left as it is');
    }
  }
  return report;
}

/** Paths (at most a few, two levels deep) where two objects differ: names of fields, never their values. */
export function differingFields(a: Record<string, unknown>, b: Record<string, unknown>, prefix = '', depth = 0): string[] {
  const out: string[] = [];
  for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    const va = a[k];
    const vb = b[k];
    if (isDeepStrictEqual(va, vb)) continue;
    const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
    if (depth < 2 && isObj(va) && isObj(vb)) out.push(...differingFields(va, vb, `${prefix}${k}.`, depth + 1));
    else out.push(`${prefix}${k}`);
    if (out.length >= 5) break;
  }
  return out.slice(0, 5);
}

/** Custom objects are refused until their CRD is Established; the wait is bounded. */
async function established(api: KubeJsonApi, crd: KubeObject, timeoutMs: number): Promise<void> {
  const path = objectPath(crd);
  for (let waited = 0; ; waited += 200) {
    const c = await api.get(path);
    const conditions = ((c?.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions) ?? [];
    if (conditions.some((x) => x.type === 'Established' && x.status === 'True')) return;
    if (waited >= timeoutMs) throw new Error(`CRD ${crd.metadata.name} was not Established within ${timeoutMs} ms`);
    await sleep(200);
  }
}
