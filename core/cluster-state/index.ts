import { kubeJsonApi } from '../clients/kube/json-api.js';
import { applyClusterState, type ImportReport } from './apply.js';
import { type ClusterStateManifest, readClusterState, writeClusterState } from './archive.js';
import { collectClusterState } from './collect.js';
import type { ClusterStateDeps, HelmRelease } from './types.js';

export type { ClusterStateManifest, ImportReport };
export { FIELD_MANAGER } from './apply.js';

/**
 * Exports the environment's cluster state into backup set `backupId` (docs/cluster-state.md): read through the
 * Kubernetes API, server-set fields stripped, sealed with the backup envelope, its signed manifest written last.
 * `backup cluster-state` calls it for a set that exists; `backup run` may call it with the set it is writing.
 */
export async function exportClusterState(deps: ClusterStateDeps, backupId: string): Promise<ClusterStateManifest> {
  const state = await collectClusterState(kubeJsonApi(deps.kubeConfig), { namespaces: deps.namespaces, certManagerNamespace: deps.certManagerNamespace, log: deps.log });
  const manifest = await writeClusterState(deps, backupId, state);
  deps.log.info({ backupId, objects: manifest.objects.length, helmReleases: manifest.helmReleases.length }, 'cluster state exported');
  return manifest;
}

export interface ImportResult extends ImportReport {
  readonly manifest: ClusterStateManifest;
  /** The archive's Helm releases with their values: for `helm install` by recreate, never printed. */
  readonly helmReleases: HelmRelease[];
}

/**
 * Imports the cluster state of set `backupId` into the environment's cluster: the archive is read and checked in
 * full first (signature, environment, checksums, every chunk), so a refused archive changes nothing; then the
 * objects are applied in order (apply.ts). `dryRun` writes nothing.
 */
export async function importClusterState(deps: ClusterStateDeps, backupId: string, o: { dryRun: boolean }): Promise<ImportResult> {
  const archive = await readClusterState(deps, backupId);
  const report = await applyClusterState(kubeJsonApi(deps.kubeConfig), archive.objects, { backupId, dryRun: o.dryRun, log: deps.log });
  return { ...report, manifest: archive.manifest, helmReleases: archive.helmReleases };
}
