import type { SecretClient } from '@azure/keyvault-secrets';
import { AppError } from '../../errors/app-error.js';

/** The current version of a Key Vault secret. */
export interface VaultSecret {
  readonly value: string;
  readonly version: string;
}

/** Key Vault secrets by name: read the current version, add a new one. Used by `secrets sync` and `secrets push`. */
export interface KeyVaultSecretStore {
  /** The current version; undefined when the secret does not exist (or is deleted). */
  read(name: string): Promise<VaultSecret | undefined>;
  /** Adds a new version (the older ones stay, as Key Vault keeps every version); returns its id. */
  write(name: string, value: string, tags?: Record<string, string>): Promise<{ version: string }>;
}

const statusOf = (err: unknown) => (err as { statusCode?: number }).statusCode;

/**
 * A failed request names the secret and the HTTP status only: the SDK's error message may quote the request,
 * and a set request carries the value.
 */
function failed(name: string, op: string, err: unknown): AppError {
  const status = statusOf(err);
  return new AppError('AKS_KEYVAULT_SECRET_FAILED', { name, operation: op, reason: status ? `HTTP ${status}` : ((err as { code?: string }).code ?? 'no answer') });
}

export function keyVaultSecretStore(client: () => SecretClient): KeyVaultSecretStore {
  return {
    async read(name) {
      try {
        const s = await client().getSecret(name);
        if (s.value === undefined) throw new AppError('AKS_KEYVAULT_SECRET_FAILED', { name, operation: 'read', reason: 'the answer holds no value' });
        return { value: s.value, version: s.properties.version ?? '' };
      } catch (err) {
        if (err instanceof AppError) throw err;
        if (statusOf(err) === 404) return undefined;
        throw failed(name, 'read', err);
      }
    },
    async write(name, value, tags) {
      try {
        const s = await client().setSecret(name, value, tags ? { tags } : {});
        return { version: s.properties.version ?? '' };
      } catch (err) {
        throw failed(name, 'write', err);
      }
    },
  };
}
