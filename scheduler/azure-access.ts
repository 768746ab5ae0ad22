import type { ClusterWriter } from '../core/clients/arm/cluster-writes.js';
import type { TokenCredential } from '../core/clients/arm/clients.js';
import type { AzureReader } from '../core/clients/arm/types.js';
import { sharedClients, type Clients } from '../core/clients/index.js';
import type { Config } from '../core/config/schema.js';
import type { Logger } from '../core/log/logger.js';
import type { Redactor } from '../core/log/redact.js';

export interface AzureAccess {
  readonly reader: AzureReader;
  readonly writer: ClusterWriter;
}

/** Reader and writer for a configured environment over one set of ARM clients; undefined without Azure access. */
export type AzureAccessFactory = (environment: string, deps: { config: Config; log: Logger; redactor: Redactor; clients?: Clients | undefined }) => Promise<AzureAccess | undefined>;

/**
 * The watch's Azure access from the process's clients (core/clients: one credential and client set per
 * environment, whose token cache lasts across ticks); deps without them get clients built through the same
 * createClients, once per configuration (with `credential` when given: tests point it at the fake ARM).
 */
export function azureAccessFactory(credential?: TokenCredential): AzureAccessFactory {
  const clientsFor = sharedClients(credential);
  return async (environment, deps) => {
    const env = deps.config.environments[environment];
    if (!env || env.azure.credential === 'none') return undefined;
    const arm = await clientsFor(deps).clientsFor(environment).arm();
    return arm ? { reader: arm.reader, writer: arm.writer } : undefined;
  };
}
