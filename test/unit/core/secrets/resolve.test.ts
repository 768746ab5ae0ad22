import { describe, expect, it } from 'vitest';
import { Redactor } from '../../../../core/log/redact.js';
import { resolveSecret } from '../../../../core/secrets/resolve.js';

describe('secrets by reference', () => {
  it('reads an environment variable and registers the value for redaction', async () => {
    const redactor = new Redactor();
    const v = await resolveSecret({ env: 'RC_TOKEN' }, { env: { RC_TOKEN: 'tok-abcdef-123' }, redactor });
    expect(v).toBe('tok-abcdef-123');
    expect(redactor.text('header tok-abcdef-123')).toBe('header [REDACTED]');
  });

  it('reads a Key Vault secret through the given reader', async () => {
    const redactor = new Redactor();
    const v = await resolveSecret({ keyVault: 'smtp-password' }, { redactor, keyVault: async (name) => (name === 'smtp-password' ? 'kv-value-xyz' : undefined) });
    expect(v).toBe('kv-value-xyz');
  });

  it.each([
    [{ env: 'MISSING' }, {}, /environment variable MISSING could not be resolved: the variable is not set/],
    [{ keyVault: 'x' }, {}, /Key Vault secret x could not be resolved: no Key Vault is configured/],
    [{ keyVault: 'x' }, { keyVault: async () => undefined }, /does not exist or is empty/],
  ])('fails clearly for %j', async (ref, extra, pattern) => {
    await expect(resolveSecret(ref, { env: {}, redactor: new Redactor(), ...extra })).rejects.toThrow(pattern);
  });
});
