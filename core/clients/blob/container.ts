import { type AnonymousCredential, BlobServiceClient, newPipeline, type RequestPolicyFactory, type StorageSharedKeyCredential } from '@azure/storage-blob';
import type { TokenCredential } from '@azure/identity';
import { AZURE_REQUEST_TIMEOUT_MS, checkTimeout, sendWithTimeout } from '../arm/request-timeout.js';

export type BlobSource = { readonly connectionString: string } | { readonly url: string; readonly credential: StorageSharedKeyCredential | AnonymousCredential | TokenCredential };

/**
 * The one place the bot builds a Blob client. Storage's own retry option `tryTimeoutInMs` only asks the server
 * to give up (a `timeout=` query parameter); a storage endpoint that accepts the connection and never answers
 * would still hold a backup forever, so every request also gets the client-side response timeout.
 *
 * The Blob SDK takes extra policies only as request-policy factories of its pipeline (its options have no
 * additionalPolicies, and the core pipeline it builds is shared by every derived container and blob client).
 * Such a factory runs outside storage's retry policy, so a timed-out request fails instead of being retried.
 */
export function blobServiceClient(source: BlobSource, opts: { timeoutMs?: number; maxTries?: number } = {}): BlobServiceClient {
  const { url, credential } = 'connectionString' in source ? BlobServiceClient.fromConnectionString(source.connectionString) : source;
  const pipeline = newPipeline(credential, opts.maxTries ? { retryOptions: { maxTries: opts.maxTries } } : {});
  const timeoutMs = checkTimeout(opts.timeoutMs ?? AZURE_REQUEST_TIMEOUT_MS);
  const factory: RequestPolicyFactory = {
    create: (next) => ({ sendRequest: (request) => sendWithTimeout(request, timeoutMs, () => next.sendRequest(request)) }),
  };
  pipeline.factories.push(factory);
  return new BlobServiceClient(url, pipeline);
}
