import { AggregateAuthenticationError, AuthenticationError, CredentialUnavailableError } from '@azure/identity';
import { AppError } from '../../errors/app-error.js';

/** The fields of the SDK's RestError that decisions are made on (read by shape: core-rest-pipeline is transitive). */
interface RestErrorLike {
  readonly statusCode?: number;
  readonly code?: string;
}

function restFields(err: unknown): RestErrorLike {
  if (typeof err !== 'object' || err === null) return {};
  const e = err as Record<string, unknown>;
  return {
    ...(typeof e.statusCode === 'number' ? { statusCode: e.statusCode } : {}),
    ...(typeof e.code === 'string' ? { code: e.code } : {}),
  };
}

export function statusOf(err: unknown): number | undefined {
  return restFields(err).statusCode;
}

/**
 * Turns whatever the SDK threw into a coded error. Decisions use the HTTP status and Azure's error code, never the
 * message text. The SDK has already retried 429/5xx by the time this runs.
 */
export function toAzureError(err: unknown, operation: string, environment: string): AppError {
  if (err instanceof AppError) return err;
  // DefaultAzureCredential tries several sources and reports them together as an AggregateAuthenticationError.
  if (err instanceof AggregateAuthenticationError) {
    return new AppError('AKS_AZURE_CREDENTIAL', { environment, reason: 'no identity found (managed identity, AZURE_* variables, az login)' }, { cause: err });
  }
  if (err instanceof CredentialUnavailableError || err instanceof AuthenticationError) {
    return new AppError('AKS_AZURE_CREDENTIAL', { environment, reason: err.name }, { cause: err });
  }
  const { statusCode, code } = restFields(err);
  if (statusCode === 409 && code === 'ReadOnlyDisabledSubscription') {
    return new AppError('AKS_AZURE_SUBSCRIPTION_DISABLED', { operation }, { cause: err });
  }
  if (code === 'PARSE_ERROR') {
    return new AppError('AKS_AZURE_RESPONSE_INVALID', { operation, issues: 'the body is not JSON' }, { cause: err });
  }
  return new AppError(
    'AKS_AZURE_REQUEST_FAILED',
    { operation, status: statusCode ?? 'none (no answer)', azureCode: code ?? 'no error code' },
    { cause: err },
  );
}
