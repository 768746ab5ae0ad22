// The only module that constructs Azure Resource Manager SDK clients and credentials (STYLE §10). Everything else
// gets an AzureReader (reader.ts) and never sees an SDK type.
import { readFileSync } from 'node:fs';
import { ContainerServiceClient } from '@azure/arm-containerservice';
import { CostManagementClient } from '@azure/arm-costmanagement';
import { SubscriptionClient } from '@azure/arm-resources-subscriptions';
import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import type { EnvironmentConfig } from '../../config/schema.js';
import { requestTimeoutOptions } from './request-timeout.js';

export type { TokenCredential };

export interface RetryOptions {
  readonly maxRetries?: number;
  readonly retryDelayInMs?: number;
  readonly maxRetryDelayInMs?: number;
}

export interface ArmClientOptions {
  readonly subscriptionId: string;
  readonly credential: TokenCredential;
  /** Default https://management.azure.com; tests point it at the fake ARM. */
  readonly endpoint?: string;
  /** PEM CA bundle for the endpoint's certificate (the fake's self-signed one). */
  readonly ca?: string;
  /** The SDK pipeline's own retry policies (429 with Retry-After, 5xx with backoff) do the retrying. */
  readonly retry?: RetryOptions;
  /** How long one request may wait for its response; default AZURE_REQUEST_TIMEOUT_MS. */
  readonly requestTimeoutMs?: number;
}

export interface ArmClients {
  readonly subscriptionId: string;
  /** The ARM endpoint the clients talk to; a cost query's nextLink must stay on it (it gets the bearer token). */
  readonly endpoint: string;
  readonly subscriptions: SubscriptionClient;
  readonly cost: CostManagementClient;
  readonly aks: ContainerServiceClient;
}

/**
 * The options every ARM SDK client of the bot gets: endpoint and CA (the fake ARM), the pipeline's retry policy,
 * and a response timeout (the SDKs have none).
 */
export function armClientOptions(opts: ArmClientOptions) {
  return {
    ...requestTimeoutOptions(opts.requestTimeoutMs),
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    ...(opts.ca ? { tlsOptions: { ca: opts.ca } } : {}),
    ...(opts.retry ? { retryOptions: { ...opts.retry } } : {}),
    userAgentOptions: { userAgentPrefix: 'aks-lifecycle-bot' },
  };
}

export function createArmClients(opts: ArmClientOptions): ArmClients {
  const common = armClientOptions(opts);
  return {
    subscriptionId: opts.subscriptionId,
    endpoint: opts.endpoint ?? 'https://management.azure.com',
    subscriptions: new SubscriptionClient(opts.credential, common),
    cost: new CostManagementClient(opts.credential, common),
    aks: new ContainerServiceClient(opts.credential, opts.subscriptionId, common),
  };
}

/**
 * Clients for a configured environment, or undefined when it says it has no Azure access (credential: none).
 * The credential is built lazily by the SDK: a missing identity shows up on the first call, not here.
 */
export function armClientsForEnvironment(env: EnvironmentConfig, credential?: TokenCredential): ArmClients | undefined {
  if (env.azure.credential === 'none') return undefined;
  return createArmClients({
    subscriptionId: env.azure.subscriptionId,
    credential: credential ?? new DefaultAzureCredential(env.azure.tenantId ? { tenantId: env.azure.tenantId } : {}),
    ...(env.azure.armEndpoint ? { endpoint: env.azure.armEndpoint.replace(/\/$/, '') } : {}),
    ...(env.azure.armCaFile ? { ca: readFileSync(env.azure.armCaFile, 'utf8') } : {}),
  });
}
