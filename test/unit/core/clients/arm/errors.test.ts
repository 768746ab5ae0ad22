import { AggregateAuthenticationError, CredentialUnavailableError } from '@azure/identity';
import { describe, expect, it } from 'vitest';
import { toAzureError } from '../../../../../core/clients/arm/errors.js';
import { AppError } from '../../../../../core/errors/app-error.js';

function restError(statusCode: number | undefined, code: string | undefined): Error {
  return Object.assign(new Error('the message text is never matched'), { name: 'RestError', statusCode, code });
}

describe('toAzureError', () => {
  it.each([
    { what: 'no identity at all', err: new AggregateAuthenticationError([new CredentialUnavailableError('x')]), code: 'AKS_AZURE_CREDENTIAL' },
    { what: 'an unavailable credential', err: new CredentialUnavailableError('x'), code: 'AKS_AZURE_CREDENTIAL' },
    { what: 'a disabled subscription', err: restError(409, 'ReadOnlyDisabledSubscription'), code: 'AKS_AZURE_SUBSCRIPTION_DISABLED' },
    { what: 'another conflict', err: restError(409, 'OperationNotAllowed'), code: 'AKS_AZURE_REQUEST_FAILED' },
    { what: 'a body that is not JSON', err: restError(200, 'PARSE_ERROR'), code: 'AKS_AZURE_RESPONSE_INVALID' },
    { what: 'no answer', err: restError(undefined, 'ECONNREFUSED'), code: 'AKS_AZURE_REQUEST_FAILED' },
  ])('maps $what to $code', ({ err, code }) => {
    const e = toAzureError(err, 'GET x', 'prod');
    expect(e).toBeInstanceOf(AppError);
    expect(e.code).toBe(code);
  });

  it('keeps the status and Azure code in the message, and passes AppErrors through', () => {
    expect(toAzureError(restError(403, 'AuthorizationFailed'), 'GET subscription', 'prod').message).toBe(
      'Azure answered GET subscription with HTTP 403 (AuthorizationFailed) after retries.',
    );
    const app = new AppError('AKS_INTERNAL', { reference: 'r' });
    expect(toAzureError(app, 'x', 'prod')).toBe(app);
  });
});
