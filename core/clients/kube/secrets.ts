import { ApiException, CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { AppError } from '../../errors/app-error.js';

/** Where a value lives in the cluster: one key of one Secret. */
export interface SecretKeyRef {
  readonly namespace: string;
  readonly secret: string;
  readonly key: string;
}

/** The Secrets of a cluster, key by key: read a Secret's keys, set one key without touching the others. */
export interface KubeSecrets {
  /** The Secret's keys and decoded values; undefined when the Secret (or its namespace) does not exist. */
  read(namespace: string, secret: string): Promise<Map<string, string> | undefined>;
  /**
   * Sets one key: a JSON merge patch of `data.<key>` only when the Secret exists (its other keys, labels and owner
   * stay as they are), else a new Opaque Secret holding that key; the namespace is created when missing.
   */
  writeKey(ref: SecretKeyRef, value: string): Promise<'created' | 'updated'>;
}

const statusOf = (err: unknown) => (err instanceof ApiException ? err.code : undefined);

/**
 * A failed request names the Secret and the HTTP status only: the API's error body may quote the request, and a
 * write carries the value.
 */
function failed(operation: string, what: string, err: unknown): AppError {
  const status = statusOf(err);
  return new AppError('AKS_KUBERNETES_SECRET_FAILED', { operation, secret: what, reason: status ? `HTTP ${status}` : ((err as { code?: string }).code ?? 'no answer') });
}

export function kubeSecrets(kc: KubeConfig): KubeSecrets {
  const core = kc.makeApiClient(CoreV1Api);

  async function ensureNamespace(namespace: string): Promise<void> {
    try {
      await core.readNamespace({ name: namespace });
    } catch (err) {
      if (statusOf(err) !== 404) throw failed('read', `namespace ${namespace}`, err);
      try {
        await core.createNamespace({ body: { metadata: { name: namespace } } });
      } catch (e) {
        if (statusOf(e) !== 409) throw failed('create', `namespace ${namespace}`, e);
      }
    }
  }

  const patch = (ref: SecretKeyRef, b64: string) =>
    core.patchNamespacedSecret({ name: ref.secret, namespace: ref.namespace, body: { data: { [ref.key]: b64 } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));

  return {
    async read(namespace, secret) {
      try {
        const s = await core.readNamespacedSecret({ name: secret, namespace });
        return new Map(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
      } catch (err) {
        if (statusOf(err) === 404) return undefined;
        throw failed('read', `${namespace}/${secret}`, err);
      }
    },
    async writeKey(ref, value) {
      const b64 = Buffer.from(value, 'utf8').toString('base64');
      const what = `${ref.namespace}/${ref.secret}`;
      try {
        await patch(ref, b64);
        return 'updated';
      } catch (err) {
        if (statusOf(err) !== 404) throw failed('patch', what, err);
      }
      await ensureNamespace(ref.namespace);
      try {
        await core.createNamespacedSecret({ namespace: ref.namespace, body: { metadata: { name: ref.secret }, type: 'Opaque', data: { [ref.key]: b64 } } });
        return 'created';
      } catch (err) {
        // created meanwhile (another writer): patch the key into it
        if (statusOf(err) !== 409) throw failed('create', what, err);
      }
      try {
        await patch(ref, b64);
        return 'updated';
      } catch (err) {
        throw failed('patch', what, err);
      }
    },
  };
}
