import type { SecretRef } from '../config/schema.js';
import { AppError } from '../errors/app-error.js';
import type { Redactor } from '../log/redact.js';

/** Reads a Key Vault secret by name; the Key Vault client module provides it once configured. */
export type KeyVaultReader = (name: string) => Promise<string | undefined>;

export function describeRef(ref: SecretRef): string {
  return 'env' in ref ? `environment variable ${ref.env}` : `Key Vault secret ${ref.keyVault}`;
}

/**
 * Turns a reference into its value and registers the value with the redactor before anyone can log it.
 */
export async function resolveSecret(
  ref: SecretRef,
  deps: { env?: NodeJS.ProcessEnv; keyVault?: KeyVaultReader; redactor: Redactor },
): Promise<string> {
  let value: string | undefined;
  if ('env' in ref) {
    value = (deps.env ?? process.env)[ref.env];
    if (!value) throw new AppError('AKS_SECRET_UNRESOLVED', { reference: describeRef(ref), reason: 'the variable is not set or empty' });
  } else {
    if (!deps.keyVault) throw new AppError('AKS_SECRET_UNRESOLVED', { reference: describeRef(ref), reason: 'no Key Vault is configured for this bot' });
    value = await deps.keyVault(ref.keyVault);
    if (!value) throw new AppError('AKS_SECRET_UNRESOLVED', { reference: describeRef(ref), reason: 'the secret does not exist or is empty' });
  }
  deps.redactor.add(value);
  return value;
}
