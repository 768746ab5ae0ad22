import type { Config } from '../../config/schema.js';
import type { Logger } from '../../log/logger.js';
import { sharedClients, type Clients } from '../index.js';
import type { TokenCredential } from './clients.js';
import type { AzureReader } from './types.js';

/** Gives the AzureReader for a configured environment, or undefined when it has no Azure access configured. */
export type ReaderFactory = (environment: string, deps: { config: Config; log: Logger; clients?: Clients | undefined }) => Promise<AzureReader | undefined>;

/**
 * The reader from the caller's clients (the command context's, built once per process); a caller without them
 * gets clients built through the same createClients, once per configuration (with `credential` when given).
 */
export function readerFactory(credential?: TokenCredential): ReaderFactory {
  const clientsFor = sharedClients(credential);
  return async (environment, deps) => {
    const env = deps.config.environments[environment];
    if (!env || env.azure.credential === 'none') return undefined;
    return (await clientsFor(deps).clientsFor(environment).arm())?.reader;
  };
}
