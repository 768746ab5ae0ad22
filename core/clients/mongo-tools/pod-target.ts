import { ApiException, type CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { AppError } from '../../errors/app-error.js';
import type { Redactor } from '../../log/redact.js';

/** Where the chart's MongoDB runs (DOMAIN §4): StatefulSet `<release>-mongodb`, secret `<release>-mongodb`. */
export interface MongoRelease {
  readonly environment: string;
  readonly namespace: string;
  readonly release: string;
  /** The auth Secret; default `<release>-mongodb`. */
  readonly secretName?: string;
  /** Its key holding the password; default `mongodb-root-password`. */
  readonly secretKey?: string;
  /** A fixed pod to exec into instead of `<release>-mongodb-0` / the label search. */
  readonly pod?: string;
  /** Label selector of the MongoDB pods; default the chart's name and instance labels. */
  readonly podSelector?: string;
}

/** The key of the chart's secret holding the root user's password (DOMAIN §4). */
export const ROOT_PASSWORD_KEY = 'mongodb-root-password';

const isNotFound = (err: unknown): boolean => err instanceof ApiException && err.code === 404;

/**
 * Reads the root password from the `<release>-mongodb` Secret through the Kubernetes API and registers it with the
 * redactor before anything else can see it. A missing secret or key is a configuration problem, not a crash.
 */
export async function readRootPassword(core: CoreV1Api, target: MongoRelease, redactor: Redactor): Promise<string> {
  const name = target.secretName ?? `${target.release}-mongodb`;
  const key = target.secretKey ?? ROOT_PASSWORD_KEY;
  let data: Record<string, string> | undefined;
  try {
    data = (await core.readNamespacedSecret({ name, namespace: target.namespace })).data;
  } catch (err) {
    if (isNotFound(err)) throw notConfigured(target, `the secret ${target.namespace}/${name} does not exist`);
    throw err;
  }
  const encoded = data?.[key];
  if (!encoded) throw notConfigured(target, `the secret ${target.namespace}/${name} has no key ${key}`);
  const password = Buffer.from(encoded, 'base64').toString('utf8');
  redactor.add(password);
  redactor.add(encoded);
  redactor.add(encodeURIComponent(password));
  return password;
}

const isRunning = (p: V1Pod): boolean => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp;

/**
 * The pod to exec into: the configured one, else `<release>-mongodb-0` (the StatefulSet's first member), else any
 * running pod with the chart's labels — a renamed StatefulSet or a standalone deployment still carries them.
 */
export async function findMongoPod(core: CoreV1Api, target: MongoRelease): Promise<string> {
  const first = target.pod ?? `${target.release}-mongodb-0`;
  try {
    const pod = await core.readNamespacedPod({ name: first, namespace: target.namespace });
    if (isRunning(pod)) return first;
    if (target.pod) throw notConfigured(target, `the configured pod ${target.namespace}/${first} is ${pod.status?.phase ?? 'not running'}`);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    if (target.pod) throw notConfigured(target, `the configured pod ${target.namespace}/${first} does not exist`);
  }
  const labelSelector = target.podSelector ?? `app.kubernetes.io/name=mongodb,app.kubernetes.io/instance=${target.release}`;
  const list = await core.listNamespacedPod({ namespace: target.namespace, labelSelector });
  const running = list.items.filter(isRunning).map((p) => p.metadata?.name ?? '').filter(Boolean).sort();
  if (!running[0]) throw notConfigured(target, `no running MongoDB pod in ${target.namespace} (tried ${first} and label ${labelSelector})`);
  return running[0];
}

function notConfigured(target: MongoRelease, reason: string): AppError {
  return new AppError('AKS_BACKUP_NOT_CONFIGURED', { environment: target.environment, reason });
}
