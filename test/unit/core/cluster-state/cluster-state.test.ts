import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { differingFields } from '../../../../core/cluster-state/apply.js';
import { decodeHelmRelease, deployedReleases, HELM_RELEASE_SECRET_TYPE } from '../../../../core/cluster-state/helm-releases.js';
import { importOrder, objectPath } from '../../../../core/cluster-state/resources.js';
import { stripServerFields } from '../../../../core/cluster-state/strip.js';
import type { KubeObject } from '../../../../core/cluster-state/types.js';

const obj = (kind: string, name: string, namespace?: string, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind,
  metadata: { name, ...(namespace ? { namespace } : {}) },
  ...extra,
});

/** A release Secret as Helm writes it: base64(gzip(JSON)), then base64 again by the Secret's data encoding. */
function releaseSecret(name: string, revision: number, status: string, config: Record<string, unknown> = {}) {
  const release = { name, namespace: 'chat', version: revision, info: { status }, chart: { metadata: { name: 'rocketchat', version: '7.0.2', appVersion: '8.6.1' } }, config, manifest: '---' };
  const helm = gzipSync(Buffer.from(JSON.stringify(release))).toString('base64');
  return { type: HELM_RELEASE_SECRET_TYPE, metadata: { name: `sh.helm.release.v1.${name}.v${revision}` }, data: { release: Buffer.from(helm).toString('base64') } };
}

describe('stripServerFields', () => {
  it('drops what the apiserver sets and a new cluster allocates again, keeps what the user wrote', () => {
    const raw = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'lb', namespace: 'chat', uid: 'u', resourceVersion: '42', generation: 3, creationTimestamp: new Date('2026-01-01T00:00:00Z'),
        managedFields: [{ manager: 'kubectl' }], ownerReferences: [{ uid: 'x' }],
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}', keep: 'me' },
        labels: { app: 'chat' },
      },
      spec: { type: 'LoadBalancer', clusterIP: '10.0.0.1', clusterIPs: ['10.0.0.1'], healthCheckNodePort: 30001, loadBalancerIP: '20.1.2.3', ports: [{ port: 443, nodePort: 31443 }] },
      status: { loadBalancer: { ingress: [{ ip: '20.1.2.3' }] } },
    };
    expect(stripServerFields(raw)).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'lb', namespace: 'chat', annotations: { keep: 'me' }, labels: { app: 'chat' } },
      spec: { type: 'LoadBalancer', loadBalancerIP: '20.1.2.3', ports: [{ port: 443 }] },
    });
    // the input is not changed
    expect(raw.spec.clusterIP).toBe('10.0.0.1');
  });

  it('unbinds a claim from its old volume and drops the binding annotations', () => {
    const pvc = obj('PersistentVolumeClaim', 'datadir-chat-mongodb-0', 'chat', { spec: { volumeName: 'pvc-123', storageClassName: 'managed-csi' } });
    pvc.metadata.annotations = { 'pv.kubernetes.io/bind-completed': 'yes', 'volume.kubernetes.io/selected-node': 'n1' };
    expect(stripServerFields(pvc)).toEqual(obj('PersistentVolumeClaim', 'datadir-chat-mongodb-0', 'chat', { spec: { storageClassName: 'managed-csi' } }));
  });

  it('drops a namespace\'s spec and the name label the apiserver sets', () => {
    const ns = obj('Namespace', 'chat', undefined, { spec: { finalizers: ['kubernetes'] } });
    ns.metadata.labels = { 'kubernetes.io/metadata.name': 'chat', team: 'x' };
    expect(stripServerFields(ns)).toEqual({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'chat', labels: { team: 'x' } } });
  });
});

describe('Helm releases from their storage Secrets', () => {
  it('decodes name, chart, version and the user-supplied values', () => {
    expect(decodeHelmRelease(releaseSecret('chat', 3, 'deployed', { mongodb: { auth: { rootPassword: 'p' } } }))).toEqual({
      name: 'chat', namespace: 'chat', revision: 3, status: 'deployed', chart: 'rocketchat', chartVersion: '7.0.2', appVersion: '8.6.1', values: { mongodb: { auth: { rootPassword: 'p' } } },
    });
  });

  it('reads a release stored without gzip, as Helm itself does', () => {
    const plain = Buffer.from(JSON.stringify({ name: 'p', namespace: 'n', version: 1, info: { status: 'deployed' }, chart: { metadata: { name: 'c', version: '1.0.0' } }, config: null })).toString('base64');
    expect(decodeHelmRelease({ type: HELM_RELEASE_SECRET_TYPE, data: { release: Buffer.from(plain).toString('base64') } })).toMatchObject({ name: 'p', chart: 'c', values: {} });
  });

  it('keeps the newest deployed revision per release, skips superseded ones and other Secrets', () => {
    const got = deployedReleases([releaseSecret('chat', 1, 'superseded'), releaseSecret('chat', 2, 'deployed'), releaseSecret('chat', 3, 'failed'), { type: 'Opaque', metadata: { name: 'x' }, data: {} }]);
    expect(got.map((r) => [r.name, r.revision])).toEqual([['chat', 2]]);
  });

  it('refuses a Secret that is not a Helm release, naming it', () => {
    expect(() => decodeHelmRelease({ type: HELM_RELEASE_SECRET_TYPE, metadata: { name: 'sh.helm.release.v1.bad.v1' }, data: { release: Buffer.from('not gzip').toString('base64') } })).toThrow(/sh.helm.release.v1.bad.v1 does not hold a Helm release/);
  });
});

describe('import order and paths', () => {
  it('orders CRDs, Namespaces, StorageClasses, PVCs, RBAC, Secrets, ConfigMaps, then the rest', () => {
    const shuffled = [
      obj('Certificate', 'c', 'a'), obj('ConfigMap', 'cm', 'a'), obj('Ingress', 'i', 'a'), obj('Secret', 's', 'a'), obj('RoleBinding', 'rb', 'a'), obj('ServiceAccount', 'sa', 'a'),
      obj('PersistentVolumeClaim', 'p', 'a'), obj('StorageClass', 'sc'), obj('Namespace', 'a'), obj('CustomResourceDefinition', 'issuers.cert-manager.io'), obj('ClusterIssuer', 'le'), obj('Role', 'r', 'a'),
    ];
    expect(importOrder(shuffled).map((o) => o.kind)).toEqual([
      'CustomResourceDefinition', 'Namespace', 'StorageClass', 'PersistentVolumeClaim', 'ServiceAccount', 'Role', 'RoleBinding', 'Secret', 'ConfigMap', 'Ingress', 'ClusterIssuer', 'Certificate',
    ]);
  });

  it('builds API paths for core, grouped and custom kinds, and refuses a kind it does not carry', () => {
    expect(objectPath(obj('Secret', 's', 'chat'))).toBe('/api/v1/namespaces/chat/secrets/s');
    expect(objectPath(obj('ClusterRoleBinding', 'b'))).toBe('/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/b');
    expect(objectPath(obj('Certificate', 'c', 'chat'))).toBe('/apis/cert-manager.io/v1/namespaces/chat/certificates/c');
    expect(() => objectPath(obj('Pod', 'p', 'chat'))).toThrow(/kind Pod/);
  });
});

describe('differingFields', () => {
  it('names the differing fields, never their values', () => {
    const a = { data: { password: 'old', user: 'u' }, metadata: { labels: { a: '1' } } };
    const b = { data: { password: 'new', user: 'u' }, metadata: { labels: { a: '1' } } };
    expect(differingFields(a, b)).toEqual(['data.password']);
    expect(differingFields(a, a)).toEqual([]);
  });
});
