import { readFileSync } from 'node:fs';
import type { BlobServiceClient } from '@azure/storage-blob';
import { requestTimeoutOptions } from '../../core/clients/arm/request-timeout.js';
import { blobServiceClient } from '../../core/clients/blob/container.js';

/**
 * How long a test's Azure request waits for the sandbox to answer. The SDKs wait forever by default; a sandbox
 * service that stops answering must fail its tests in seconds, not hold the whole run until the CI limit.
 */
const SANDBOX_REQUEST_TIMEOUT_MS = 20_000;

/** Key Vault client options for the sandbox vault: its CA, no resource check (not *.vault.azure.net), a timeout. */
export function sandboxKeyVaultOptions(caFile: string) {
  return {
    disableChallengeResourceVerification: true,
    tlsOptions: { ca: readFileSync(caFile, 'utf8') },
    // a timed-out try is retried twice: at most about a minute per request against a vault that hangs
    retryOptions: { maxRetries: 2 },
    ...requestTimeoutOptions(SANDBOX_REQUEST_TIMEOUT_MS),
  };
}

/** A Blob client on the sandbox Azurite, built the way the bot builds its own (with the response timeout). */
export function sandboxBlobService(connectionString: string): BlobServiceClient {
  return blobServiceClient({ connectionString }, { timeoutMs: SANDBOX_REQUEST_TIMEOUT_MS });
}
