import { type PipelinePolicy, RestError } from '@azure/core-rest-pipeline';

/**
 * How long one Azure request may wait for its response headers before it is aborted. The SDKs default to no
 * limit at all, so a vault or storage account that accepts the connection and never answers would hold a backup,
 * a restore or the watch forever. The timer stops when the headers arrive, so a long blob download is not cut.
 */
export const AZURE_REQUEST_TIMEOUT_MS = 120_000;

interface TimedRequest {
  url: string;
  timeout: number;
  abortSignal?: { readonly aborted: boolean } | undefined;
}

export function checkTimeout(timeoutMs: number): number {
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new RangeError(`request timeout must be a positive integer of ms, got ${timeoutMs}`);
  return timeoutMs;
}

/**
 * Sends with a response timeout (unless the caller set one). The HTTP client turns an expired timer into a bare
 * AbortError; that becomes a RestError with code ETIMEDOUT naming the host, which the SDK retry policies treat
 * as a transient network error. An abort the caller asked for stays an AbortError.
 */
export async function sendWithTimeout<T>(request: TimedRequest, timeoutMs: number, send: () => Promise<T>): Promise<T> {
  if (!(request.timeout > 0)) request.timeout = timeoutMs;
  try {
    return await send();
  } catch (err) {
    if ((err as Error | undefined)?.name === 'AbortError' && !request.abortSignal?.aborted) {
      const host = hostOf(request.url);
      throw new RestError(`no response from ${host} within ${Math.round(request.timeout / 1000)} s (request timed out)`, { code: 'ETIMEDOUT' });
    }
    throw err;
  }
}

/** The timeout as a pipeline policy, for every Azure SDK client the bot builds (storage: see core/clients/blob/container.ts). */
export function requestTimeoutPolicy(timeoutMs: number = AZURE_REQUEST_TIMEOUT_MS): PipelinePolicy {
  checkTimeout(timeoutMs);
  return {
    name: 'aksRequestTimeoutPolicy',
    sendRequest: (request, next) => sendWithTimeout(request, timeoutMs, () => next(request)),
  };
}

/** Client options fragment: the policy on every try, inside the SDK's retry policy, so a timed-out try is retried. */
export function requestTimeoutOptions(timeoutMs: number = AZURE_REQUEST_TIMEOUT_MS) {
  return { additionalPolicies: [{ policy: requestTimeoutPolicy(timeoutMs), position: 'perRetry' as const }] };
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'the Azure endpoint';
  }
}
