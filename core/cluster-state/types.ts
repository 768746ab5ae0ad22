import type { KubeConfig } from '@kubernetes/client-node';
import type { ContainerClient } from '@azure/storage-blob';
import type { ManifestSigner } from '../clients/keyvault/manifest-signer.js';
import type { KeyWrapper } from '../backup/crypto/key-wrapper.js';
import type { Logger } from '../log/logger.js';

/** A Kubernetes object as exported and applied: plain JSON, server-set fields stripped (strip.ts). */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; [k: string]: unknown };
  [field: string]: unknown;
}

/** "Secret rocketchat/chat-mongodb", "ClusterIssuer letsencrypt": how reports and errors name an object. */
export const objectRef = (o: Pick<KubeObject, 'kind' | 'metadata'>): string => `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;

/** A Helm release as its storage Secret records it; values may hold secrets, so they live in the encrypted archive only. */
export interface HelmRelease {
  readonly name: string;
  readonly namespace: string;
  readonly revision: number;
  readonly status: string;
  readonly chart: string;
  readonly chartVersion: string;
  readonly appVersion?: string;
  /** The values the user supplied (helm get values), not the chart's defaults. */
  readonly values: Record<string, unknown>;
}

/** What an export and an import need, from the environment's clients (runtime.ts) or built by tests. */
export interface ClusterStateDeps {
  readonly environment: string;
  readonly kubeConfig: KubeConfig;
  readonly container: ContainerClient;
  /** Blob folder of this environment's sets (the same as the database backup's). */
  readonly prefix: string;
  /** The backup envelope's key wrapper and manifest signer: the cluster state is sealed like the dump. */
  readonly keys: KeyWrapper;
  readonly signer: ManifestSigner;
  /** The namespaces exported (clusterState.namespaces, default the Rocket.Chat namespace). */
  readonly namespaces: readonly string[];
  /** Where ClusterIssuers keep their ACME account key Secrets (clusterState.certManagerNamespace). */
  readonly certManagerNamespace: string;
  readonly log: Logger;
  readonly now: () => Date;
}
