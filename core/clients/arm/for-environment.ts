import type { Config } from '../../config/schema.js';
import type { Logger } from '../../log/logger.js';
import type { TokenCredential } from './clients.js';
import type { AzureReader } from './types.js';

/** Gives the AzureReader for a configured environment, or undefined when it has no Azure access configured. */
export type ReaderFactory = (environment: string, deps: { config: Config; log: Logger }) => Promise<AzureReader | undefined>;

export function readerFactory(credential?: TokenCredential): ReaderFactory {
  return async (environment, deps) => {
    const env = deps.config.environments[environment];
    if (!env || env.azure.credential === 'none') return undefined;
    // Loaded on first use: the SDKs and @azure/identity add about half a second to every CLI start otherwise.
    const [{ armClientsForEnvironment }, { createAzureReader }] = await Promise.all([import('./clients.js'), import('./reader.js')]);
    const clients = armClientsForEnvironment(env, credential);
    return clients ? createAzureReader({ clients, environment, log: deps.log }) : undefined;
  };
}
