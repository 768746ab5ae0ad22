import type { KubeObject } from './types.js';

// What the apiserver sets and a fresh cluster sets again by itself: kept, these would pin an import to the old
// cluster's identities (uid, resourceVersion), its allocations (a Service's cluster IPs and node ports) or its
// history (managedFields, the last-applied annotation). docs/cluster-state.md lists each with its reason.

const METADATA_DROPPED = ['uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields', 'selfLink', 'ownerReferences', 'finalizers', 'deletionTimestamp', 'deletionGracePeriodSeconds'];

const ANNOTATIONS_DROPPED = [
  'kubectl.kubernetes.io/last-applied-configuration',
  // set by the PV controller and the scheduler when a claim binds; the new cluster's binding sets them again
  'pv.kubernetes.io/bind-completed',
  'pv.kubernetes.io/bound-by-controller',
  'volume.beta.kubernetes.io/storage-provisioner',
  'volume.kubernetes.io/storage-provisioner',
  'volume.kubernetes.io/selected-node',
  'deployment.kubernetes.io/revision',
];

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A copy of `raw` as it may be applied to another cluster: plain JSON (dates as strings), no status, no server-set
 * metadata, per kind the fields the cluster allocates. Pure: the same input always gives the same output, so an
 * export compared with what a cluster holds after an import differs only where the objects differ.
 */
export function stripServerFields(raw: unknown): KubeObject {
  const o = JSON.parse(JSON.stringify(raw)) as KubeObject;
  delete o.status;
  const m = o.metadata;
  for (const k of METADATA_DROPPED) delete m[k];
  if (m.annotations) {
    for (const a of ANNOTATIONS_DROPPED) delete m.annotations[a];
    if (Object.keys(m.annotations).length === 0) delete m.annotations;
  }
  if (m.labels && Object.keys(m.labels).length === 0) delete m.labels;
  const spec = isRecord(o.spec) ? o.spec : undefined;
  switch (o.kind) {
    case 'Namespace':
      // the namespace controller's own finalizer, and the name label the apiserver sets on every namespace
      delete o.spec;
      if (m.labels) {
        delete m.labels['kubernetes.io/metadata.name'];
        if (Object.keys(m.labels).length === 0) delete m.labels;
      }
      break;
    case 'Service':
      if (spec) {
        for (const k of ['clusterIP', 'clusterIPs', 'healthCheckNodePort']) delete spec[k];
        if (Array.isArray(spec.ports)) for (const p of spec.ports as Record<string, unknown>[]) delete p.nodePort;
      }
      break;
    case 'PersistentVolumeClaim':
      // the claim binds to the volume the restore provides (a static PV whose claimRef names it), not the old one
      if (spec) delete spec.volumeName;
      break;
    case 'ServiceAccount':
      // token Secrets are the cluster's own; a new cluster issues new ones
      delete o.secrets;
      break;
    default:
      break;
  }
  return o;
}
