import type { TokenCredential } from '@azure/core-auth';
import { AppError } from '../../core/errors/app-error.js';

/** The catalog code a promise rejects with; 'resolved' when it does not reject, and non-AppErrors are rethrown. */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof AppError) return err.code;
    throw err;
  }
  return 'resolved';
}

/** Any token will do for the fakes (ARM, Key Vault); the SDK still runs its whole auth pipeline. */
export function fakeCredential(token = 'fake-arm-token'): TokenCredential {
  return { getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3_600_000 }) };
}
