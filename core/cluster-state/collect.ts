import type { KubeJsonApi } from '../clients/kube/json-api.js';
import type { Logger } from '../log/logger.js';
import { deployedReleases, HELM_RELEASE_SECRET_TYPE } from './helm-releases.js';
import { CERT_MANAGER_CRDS, collectionPath, type Kind } from './resources.js';
import { stripServerFields } from './strip.js';
import type { HelmRelease, KubeObject } from './types.js';

export interface CollectedState {
  /** The namespaces asked for that exist; the others are in `missingNamespaces`. */
  readonly namespaces: string[];
  readonly missingNamespaces: string[];
  readonly objects: KubeObject[];
  readonly helmReleases: HelmRelease[];
  /** What cert-manager needs to issue nothing again: the TLS Secrets of Certificates, the ACME account key Secrets. */
  readonly certManager: { readonly tlsSecrets: string[]; readonly acmeKeySecrets: string[]; readonly missing: string[] };
}

type Raw = Record<string, unknown>;
const meta = (o: Raw) => (o.metadata ?? {}) as { name?: string; namespace?: string; labels?: Record<string, string> };
const specOf = (o: Raw) => (o.spec ?? {}) as Record<string, unknown>;

/** Built in by every cluster: recreated by the new cluster itself, never carried over. */
const clusterOwnConfigMaps = new Set(['kube-root-ca.crt']);
const isDefaultRbac = (o: Raw) => meta(o).labels?.['kubernetes.io/bootstrapping'] === 'rbac-defaults' || (meta(o).name ?? '').startsWith('system:');

/**
 * Reads the cluster state of `namespaces` (docs/cluster-state.md): per namespace its ConfigMaps, Secrets (Helm's
 * release records decoded into `helmReleases` instead), Ingresses, LoadBalancer Services, PVCs, ServiceAccounts,
 * Roles and RoleBindings and — when cert-manager's CRDs exist — Issuers and Certificates; and what those reference
 * outside them: the StorageClasses of the claims, the ClusterRoles and ClusterRoleBindings of their service
 * accounts, the ClusterIssuers with their ACME account key Secrets, and the cert-manager CRDs themselves.
 * Read only; every object comes back through stripServerFields.
 */
export async function collectClusterState(api: KubeJsonApi, o: { namespaces: readonly string[]; certManagerNamespace: string; log: Logger }): Promise<CollectedState> {
  const objects: Raw[] = [];
  const releaseSecrets: Raw[] = [];
  const present: string[] = [];
  const missingNamespaces: string[] = [];
  const certManager = { tlsSecrets: [] as string[], acmeKeySecrets: [] as string[], missing: [] as string[] };

  const crds: Partial<Record<keyof typeof CERT_MANAGER_CRDS, Raw>> = {};
  for (const [kind, name] of Object.entries(CERT_MANAGER_CRDS) as [keyof typeof CERT_MANAGER_CRDS, string][]) {
    const crd = await api.get(`${collectionPath('CustomResourceDefinition')}/${name}`);
    if (crd) crds[kind] = { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', ...crd };
  }
  objects.push(...Object.values(crds));

  const list = (kind: Kind, ns?: string) => api.list(collectionPath(kind, ns));
  for (const ns of [...new Set(o.namespaces)]) {
    const namespace = await api.get(`${collectionPath('Namespace')}/${ns}`);
    if (!namespace) {
      missingNamespaces.push(ns);
      o.log.warn({ namespace: ns }, 'cluster-state export: a configured namespace does not exist; nothing exported from it');
      continue;
    }
    present.push(ns);
    objects.push({ apiVersion: 'v1', kind: 'Namespace', ...namespace });
    for (const s of await list('Secret', ns)) {
      if (s.type === HELM_RELEASE_SECRET_TYPE) releaseSecrets.push(s);
      // token Secrets are minted by the cluster for its service accounts; a new cluster mints its own
      else if (s.type !== 'kubernetes.io/service-account-token') objects.push(s);
    }
    objects.push(...(await list('ConfigMap', ns)).filter((c) => !clusterOwnConfigMaps.has(meta(c).name ?? '')));
    objects.push(...(await list('Service', ns)).filter((s) => specOf(s).type === 'LoadBalancer'));
    objects.push(...(await list('Ingress', ns)));
    objects.push(...(await list('PersistentVolumeClaim', ns)));
    objects.push(...(await list('ServiceAccount', ns)).filter((a) => meta(a).name !== 'default'));
    objects.push(...(await list('Role', ns)));
    objects.push(...(await list('RoleBinding', ns)));
    if (crds.Issuer) objects.push(...(await list('Issuer', ns)));
    if (crds.Certificate) objects.push(...(await list('Certificate', ns)));
  }

  const inScope = new Set(present);
  const has = (kind: string, ns: string | undefined, name: string) => objects.some((x) => x.kind === kind && meta(x).namespace === ns && meta(x).name === name);
  const ref = (ns: string, name: string) => `${ns}/${name}`;

  // what the namespaces' objects reference outside them
  const storageClasses = new Set(objects.filter((x) => x.kind === 'PersistentVolumeClaim').map((x) => specOf(x).storageClassName).filter((n): n is string => typeof n === 'string' && n !== ''));
  for (const sc of await list('StorageClass')) if (storageClasses.has(meta(sc).name ?? '')) objects.push(sc);

  const bindings = (await list('ClusterRoleBinding')).filter(
    (b) => !isDefaultRbac(b) && ((b.subjects ?? []) as { kind?: string; namespace?: string }[]).some((s) => s.kind === 'ServiceAccount' && inScope.has(s.namespace ?? '')),
  );
  objects.push(...bindings);
  const roleNames = new Set(
    [...bindings, ...objects.filter((x) => x.kind === 'RoleBinding')].map((b) => b.roleRef as { kind?: string; name?: string } | undefined).filter((r) => r?.kind === 'ClusterRole').map((r) => r!.name!),
  );
  for (const cr of await list('ClusterRole')) if (roleNames.has(meta(cr).name ?? '') && !isDefaultRbac(cr)) objects.push(cr);

  if (crds.ClusterIssuer) {
    for (const ci of await list('ClusterIssuer')) {
      objects.push(ci);
      const key = acmeKeyOf(ci);
      if (!key) continue;
      const secret = await api.get(`${collectionPath('Secret', o.certManagerNamespace)}/${key}`);
      const r = ref(o.certManagerNamespace, key);
      if (!secret) {
        certManager.missing.push(r);
        continue;
      }
      certManager.acmeKeySecrets.push(r);
      if (has('Secret', o.certManagerNamespace, key)) continue;
      if (!has('Namespace', undefined, o.certManagerNamespace)) {
        const cmNs = await api.get(`${collectionPath('Namespace')}/${o.certManagerNamespace}`);
        if (cmNs) objects.push({ apiVersion: 'v1', kind: 'Namespace', ...cmNs });
      }
      objects.push({ apiVersion: 'v1', kind: 'Secret', ...secret });
    }
  }
  for (const issuer of objects.filter((x) => x.kind === 'Issuer')) {
    const key = acmeKeyOf(issuer);
    if (key) (has('Secret', meta(issuer).namespace, key) ? certManager.acmeKeySecrets : certManager.missing).push(ref(meta(issuer).namespace!, key));
  }
  for (const c of objects.filter((x) => x.kind === 'Certificate')) {
    const name = specOf(c).secretName;
    if (typeof name === 'string') (has('Secret', meta(c).namespace, name) ? certManager.tlsSecrets : certManager.missing).push(ref(meta(c).namespace!, name));
  }
  if (certManager.missing.length) o.log.warn({ missing: certManager.missing }, 'cluster-state export: cert-manager names Secrets that do not exist (not issued yet?)');

  return {
    namespaces: present,
    missingNamespaces,
    objects: objects.map(stripServerFields),
    helmReleases: deployedReleases(releaseSecrets as Parameters<typeof deployedReleases>[0]),
    certManager,
  };
}

/** The Secret an ACME issuer keeps its account key in (spec.acme.privateKeySecretRef.name). */
function acmeKeyOf(issuer: Raw): string | undefined {
  const acme = specOf(issuer).acme as { privateKeySecretRef?: { name?: unknown } } | undefined;
  const name = acme?.privateKeySecretRef?.name;
  return typeof name === 'string' && name ? name : undefined;
}
