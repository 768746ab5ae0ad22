// mongodump / mongorestore / mongosh of one environment, per its backup.executor: in the MongoDB pod through the
// Kubernetes exec API, or on the bot host against a configured URI (with one MongoDB driver connection pool). Built
// once per environment, however many runs use them; what the backup reads back through them (the content
// inspectors) is the backup's own (core/backup/mongo).
import type { KubeConfig } from '@kubernetes/client-node';
import type { EnvironmentConfig } from '../../config/schema.js';
import { AppError } from '../../errors/app-error.js';
import { createExec } from '../../exec/exec.js';
import { createStreamExec } from '../../exec/stream.js';
import type { Logger } from '../../log/logger.js';
import type { Redactor } from '../../log/redact.js';
import { resolveSecret, type KeyVaultReader } from '../../secrets/resolve.js';
import type { MongoClient } from 'mongodb';
import type { MongoTools } from './tools.js';
import type { PodMongoTools } from './pod-exec-tools.js';
import { releaseVersions, type ReleaseVersions } from '../kube/release-versions.js';

export type { MongoTools, ReleaseVersions };

/** How the database is read besides the tools: through the pod (mongosh), or with the driver on the bot host. */
export type MongoAccess = { readonly kind: 'pod'; readonly tools: PodMongoTools } | { readonly kind: 'driver'; readonly driver: MongoClient };

export interface MongoToolsClients {
  readonly tools: MongoTools;
  readonly access: MongoAccess;
  /** The Rocket.Chat chart and app versions as the cluster runs them now (read on each call: they change). */
  versions(): Promise<ReleaseVersions>;
  close(): Promise<void>;
}

export interface MongoToolsDeps {
  readonly environment: string;
  readonly env: EnvironmentConfig;
  readonly log: Logger;
  readonly redactor: Redactor;
  /** The environment's kubeconfig (kube/kubeconfig.ts), shared with the other users of its cluster. */
  readonly kubeConfig: () => Promise<KubeConfig>;
  readonly secrets: { readonly env?: NodeJS.ProcessEnv; readonly keyVault?: KeyVaultReader };
}

export function createMongoTools(deps: MongoToolsDeps): Promise<MongoToolsClients> {
  return deps.env.backup.executor.kind === 'kubernetes' ? podExecutor(deps) : localExecutor(deps);
}

/** mongodump/mongorestore inside the MongoDB pod; content read back by dumping through the same pod. */
async function podExecutor(deps: MongoToolsDeps): Promise<MongoToolsClients> {
  const { environment, env: envCfg, log, redactor } = deps;
  const ex = envCfg.backup.executor;
  if (ex.kind !== 'kubernetes') throw new AppError('AKS_INTERNAL', { reference: 'pod-executor-kind' });
  const [{ AppsV1Api, CoreV1Api, Exec }, { podExecMongoTools }] = await Promise.all([import('@kubernetes/client-node'), import('./pod-exec-tools.js')]);
  const kc = await deps.kubeConfig();
  const target = {
    environment,
    namespace: envCfg.rocketchat.namespace,
    release: envCfg.rocketchat.release,
    secretKey: ex.secret.key,
    ...(ex.secret.name ? { secretName: ex.secret.name } : {}),
    ...(ex.pod ? { pod: ex.pod } : {}),
    ...(ex.podSelector ? { podSelector: ex.podSelector } : {}),
  };
  const tools = podExecMongoTools({
    exec: new Exec(kc),
    core: kc.makeApiClient(CoreV1Api),
    redactor,
    log,
    target,
    container: ex.container,
    host: ex.host,
    uriOptions: new URLSearchParams(Object.entries(ex.uriOptions).map(([k, v]): [string, string] => [k, String(v)])).toString(),
    username: ex.username,
  });
  const apps = kc.makeApiClient(AppsV1Api);
  return {
    tools,
    access: { kind: 'pod', tools },
    versions: () => releaseVersions(apps, target, log),
    close: async () => undefined,
  };
}

/** The tools on the bot host against a configured URI; chart and app versions only when the cluster is configured. */
async function localExecutor(deps: MongoToolsDeps): Promise<MongoToolsClients> {
  const { environment, env: envCfg, log, redactor } = deps;
  const ex = envCfg.backup.executor;
  if (ex.kind !== 'local') throw new AppError('AKS_INTERNAL', { reference: 'local-executor-kind' });
  const [{ MongoClient }, { localMongoTools }] = await Promise.all([import('mongodb'), import('./local-tools.js')]);
  const uri = await resolveSecret(ex.uri, { redactor, ...deps.secrets });
  const versions = async (): Promise<ReleaseVersions> => {
    if (!envCfg.kubernetes.kubeconfigPath && !envCfg.kubernetes.kubeconfig) return {};
    try {
      const { AppsV1Api } = await import('@kubernetes/client-node');
      const kc = await deps.kubeConfig();
      return await releaseVersions(kc.makeApiClient(AppsV1Api), { namespace: envCfg.rocketchat.namespace, release: envCfg.rocketchat.release }, log);
    } catch (err) {
      // the local executor does not need the cluster: a broken kubeconfig costs the versions, not the backup
      log.warn({ err, environment }, 'chart and app versions not read: the kubernetes settings do not work');
      return {};
    }
  };
  // the driver's socket timeout is off by default: a server that stops answering mid-read would hold the run (and
  // its lifecycle lease) forever; every call the inspector makes answers in well under this
  const mongo = new MongoClient(uri, { socketTimeoutMS: 5 * 60_000 });
  const ctx = { redactor, log };
  const tools = localMongoTools({ streamExec: createStreamExec(ctx), exec: createExec(ctx), redactor, mongodump: ex.mongodump, mongorestore: ex.mongorestore, uri });
  return { tools, access: { kind: 'driver', driver: mongo }, versions, close: () => mongo.close() };
}
