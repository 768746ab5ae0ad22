import type { KubeObject } from './types.js';

/** Where a kind lives in the API and where it comes in the import order (docs/cluster-state.md). */
interface Resource {
  readonly apiVersion: string;
  readonly plural: string;
  readonly namespaced: boolean;
  /**
   * Import order: what others need first. CRDs before their objects, Namespaces before what is in them, storage
   * before claims, identities and their rights before what runs as them, Secrets and ConfigMaps before what mounts
   * or references them, cert-manager's issuers before the certificates they issue.
   */
  readonly order: number;
}

export const RESOURCES = {
  CustomResourceDefinition: { apiVersion: 'apiextensions.k8s.io/v1', plural: 'customresourcedefinitions', namespaced: false, order: 0 },
  Namespace: { apiVersion: 'v1', plural: 'namespaces', namespaced: false, order: 1 },
  StorageClass: { apiVersion: 'storage.k8s.io/v1', plural: 'storageclasses', namespaced: false, order: 2 },
  PersistentVolume: { apiVersion: 'v1', plural: 'persistentvolumes', namespaced: false, order: 3 },
  PersistentVolumeClaim: { apiVersion: 'v1', plural: 'persistentvolumeclaims', namespaced: true, order: 4 },
  ServiceAccount: { apiVersion: 'v1', plural: 'serviceaccounts', namespaced: true, order: 5 },
  ClusterRole: { apiVersion: 'rbac.authorization.k8s.io/v1', plural: 'clusterroles', namespaced: false, order: 6 },
  Role: { apiVersion: 'rbac.authorization.k8s.io/v1', plural: 'roles', namespaced: true, order: 6 },
  ClusterRoleBinding: { apiVersion: 'rbac.authorization.k8s.io/v1', plural: 'clusterrolebindings', namespaced: false, order: 7 },
  RoleBinding: { apiVersion: 'rbac.authorization.k8s.io/v1', plural: 'rolebindings', namespaced: true, order: 7 },
  Secret: { apiVersion: 'v1', plural: 'secrets', namespaced: true, order: 8 },
  ConfigMap: { apiVersion: 'v1', plural: 'configmaps', namespaced: true, order: 9 },
  Service: { apiVersion: 'v1', plural: 'services', namespaced: true, order: 10 },
  Ingress: { apiVersion: 'networking.k8s.io/v1', plural: 'ingresses', namespaced: true, order: 11 },
  ClusterIssuer: { apiVersion: 'cert-manager.io/v1', plural: 'clusterissuers', namespaced: false, order: 12 },
  Issuer: { apiVersion: 'cert-manager.io/v1', plural: 'issuers', namespaced: true, order: 12 },
  Certificate: { apiVersion: 'cert-manager.io/v1', plural: 'certificates', namespaced: true, order: 13 },
} as const satisfies Record<string, Resource>;

export type Kind = keyof typeof RESOURCES;
export const isKind = (k: string): k is Kind => Object.hasOwn(RESOURCES, k);

/** The cert-manager CRDs whose objects are exported when they exist. */
export const CERT_MANAGER_CRDS = { Issuer: 'issuers.cert-manager.io', ClusterIssuer: 'clusterissuers.cert-manager.io', Certificate: 'certificates.cert-manager.io' } as const;

const prefixOf = (apiVersion: string) => (apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`);

/** The collection path of a kind, in `namespace` for namespaced kinds. */
export function collectionPath(kind: Kind, namespace?: string): string {
  const r = RESOURCES[kind];
  if (r.namespaced && !namespace) throw new Error(`${kind} is namespaced: a namespace is needed`);
  return `${prefixOf(r.apiVersion)}${r.namespaced ? `/namespaces/${encodeURIComponent(namespace!)}` : ''}/${r.plural}`;
}

/** The path of one object. */
export function objectPath(o: Pick<KubeObject, 'kind' | 'metadata'>): string {
  if (!isKind(o.kind)) throw new Error(`kind ${o.kind} is not one the cluster state carries`);
  return `${collectionPath(o.kind, o.metadata.namespace)}/${encodeURIComponent(o.metadata.name)}`;
}

/** The import order: by kind, then namespace and name, so an import is the same sequence every time. */
export function importOrder(objects: readonly KubeObject[]): KubeObject[] {
  const rank = (o: KubeObject) => (isKind(o.kind) ? RESOURCES[o.kind].order : 99);
  return [...objects].sort((a, b) => rank(a) - rank(b) || (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') || a.metadata.name.localeCompare(b.metadata.name) || a.kind.localeCompare(b.kind));
}
