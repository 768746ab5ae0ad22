import { constants, createPublicKey, publicEncrypt, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { beforeAll, describe, expect, it } from 'vitest';
import { SecretClient } from '@azure/keyvault-secrets';
import { CryptographyClient, KeyClient } from '@azure/keyvault-keys';
import { useSandbox } from '../../sandbox/use.js';
import { sandboxKeyVaultOptions } from '../../helpers/azure-clients.js';

/**
 * The sandbox Key Vault is a FAKE speaking the Key Vault REST API (lowkey-vault is not served by the registry
 * here). These tests drive it only through the unmodified Azure SDK clients, the way the bot does.
 */

// the SDK's TokenCredential type, without importing @azure/core-auth (not a direct dependency)
type TokenCredential = ConstructorParameters<typeof SecretClient>[1];

const scopesAsked: string[][] = [];
const credential: TokenCredential = {
  getToken: async (scopes) => {
    scopesAsked.push(Array.isArray(scopes) ? scopes : [scopes]);
    return { token: 'sandbox-token', expiresOnTimestamp: Date.now() + 3_600_000 };
  },
};

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function raw(url: string, ca: string | undefined, headers: Record<string, string> = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function rawPost(url: string, ca: string, body: unknown): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const text = JSON.stringify(body);
    const req = request(
      url,
      { method: 'POST', ca, headers: { authorization: 'Bearer sandbox-token', 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) } },
      (res) => {
        let out = '';
        res.on('data', (d: Buffer) => (out += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: out }));
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

async function statusOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
  } catch (err) {
    return (err as { statusCode?: number }).statusCode ?? -1;
  }
  return 200;
}

describe('sandbox: Key Vault (fake) through the unmodified Azure SDK clients', () => {
  let vaultUrl: string;
  let ca: string;
  let caFile: string;
  let secrets: SecretClient;
  let keys: KeyClient;

  beforeAll(async () => {
    const sb = await useSandbox(['keyvault']);
    vaultUrl = sb.keyvault.vaultUrl!;
    caFile = sb.keyvault.caFile!;
    ca = readFileSync(caFile, 'utf8');
    // trust the sandbox CA for these clients only; the vault URL is not *.vault.azure.net, hence no resource check
    const options = sandboxKeyVaultOptions(caFile);
    secrets = new SecretClient(vaultUrl, credential, options);
    keys = new KeyClient(vaultUrl, credential, options);
  });

  it('answers an unauthenticated request with the Key Vault challenge, and unknown api-versions with 400', async () => {
    const anon = await raw(`${vaultUrl}/secrets?api-version=2025-07-01`, ca);
    expect(anon.status).toBe(401);
    expect(String(anon.headers['www-authenticate'])).toMatch(/^Bearer authorization="https:\/\/login\.microsoftonline\.com\/[^"]+", resource="https:\/\/vault\.azure\.net"/);

    const bad = await raw(`${vaultUrl}/secrets?api-version=1999-01-01`, ca, { authorization: 'Bearer x' });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error.code).toBe('BadParameter');
  });

  it('refuses TLS to a client that does not trust the sandbox CA', async () => {
    const untrusting = new SecretClient(vaultUrl, credential, { disableChallengeResourceVerification: true, retryOptions: { maxRetries: 0 } });
    await expect(untrusting.getSecret('anything')).rejects.toThrow(/certificate/i);
  });

  it('a secret reads back; a second set makes a new version; versions are listed and each reads back', async () => {
    const name = `bot-config-${randomUUID().slice(0, 8)}`;
    const first = await secrets.setSecret(name, 'value-one', { contentType: 'text/plain', tags: { owner: 'bot' } });
    expect(scopesAsked.at(-1)).toEqual(['https://vault.azure.net/.default']);
    const got = await secrets.getSecret(name);
    expect(got.value).toBe('value-one');
    expect(got.properties.version).toBe(first.properties.version);
    expect(got.properties.contentType).toBe('text/plain');
    expect(got.properties.tags).toEqual({ owner: 'bot' });

    const second = await secrets.setSecret(name, 'value-two');
    expect(second.properties.version).not.toBe(first.properties.version);
    expect((await secrets.getSecret(name)).value).toBe('value-two');
    expect((await secrets.getSecret(name, { version: first.properties.version! })).value).toBe('value-one');

    const versions: string[] = [];
    for await (const p of secrets.listPropertiesOfSecretVersions(name)) versions.push(p.version!);
    expect(versions.sort()).toEqual([first.properties.version!, second.properties.version!].sort());

    const names: string[] = [];
    for await (const p of secrets.listPropertiesOfSecrets()) names.push(p.name);
    expect(names).toContain(name);
  });

  it('lists more secrets than one page holds by following nextLink', async () => {
    const prefix = `page-${randomUUID().slice(0, 6)}`;
    for (let i = 0; i < 30; i++) await secrets.setSecret(`${prefix}-${i}`, String(i));
    const seen = new Set<string>();
    for await (const p of secrets.listPropertiesOfSecrets()) if (p.name.startsWith(prefix)) seen.add(p.name);
    expect(seen.size).toBe(30);
  });

  it('a disabled secret is refused; a deleted one is gone, blocks its name until purged', async () => {
    const name = `old-${randomUUID().slice(0, 8)}`;
    const s = await secrets.setSecret(name, 'soon-disabled');
    await secrets.updateSecretProperties(name, s.properties.version!, { enabled: false });
    expect(await statusOf(secrets.getSecret(name))).toBe(403);
    await secrets.updateSecretProperties(name, s.properties.version!, { enabled: true });
    expect((await secrets.getSecret(name)).value).toBe('soon-disabled');

    const poller = await secrets.beginDeleteSecret(name, { intervalInMs: 50 });
    const deleted = await poller.pollUntilDone();
    expect(deleted.properties.recoveryId).toContain(`/deletedsecrets/${name}`);
    expect(await statusOf(secrets.getSecret(name))).toBe(404);
    expect(await statusOf(secrets.setSecret(name, 'again'))).toBe(409);

    await secrets.purgeDeletedSecret(name);
    expect((await secrets.setSecret(name, 'again')).value).toBe('again');
  });

  it('refuses a secret value over the 25,600-character limit', async () => {
    expect(await statusOf(secrets.setSecret(`big-${randomUUID().slice(0, 8)}`, 'x'.repeat(25_601)))).toBe(400);
  });

  it('wraps and unwraps a data key with RSA-OAEP-256 (envelope encryption)', async () => {
    const key = await keys.createRsaKey(`backup-kek-${randomUUID().slice(0, 8)}`, { keySize: 2048 });
    expect(key.keyType).toBe('RSA');
    const crypto = new CryptographyClient(key.id!, credential, sandboxKeyVaultOptions(caFile));

    const dek = randomBytes(32);
    const wrapped = await crypto.wrapKey('RSA-OAEP-256', dek);
    expect(wrapped.result.length).toBe(256);
    expect(Buffer.from(wrapped.result).equals(dek)).toBe(false);
    expect(wrapped.keyID).toBe(key.id);

    const unwrapped = await crypto.unwrapKey('RSA-OAEP-256', wrapped.result);
    expect(Buffer.from(unwrapped.result).equals(dek)).toBe(true);

    // what anyone wraps with the published public key, the vault unwraps: it is real RSA-OAEP with SHA-256
    const pub = createPublicKey({ key: { kty: 'RSA', n: Buffer.from(key.key!.n!).toString('base64url'), e: Buffer.from(key.key!.e!).toString('base64url') }, format: 'jwk' });
    const outside = publicEncrypt({ key: pub, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, dek);
    expect(Buffer.from((await crypto.unwrapKey('RSA-OAEP-256', outside)).result).equals(dek)).toBe(true);

    // a key rotated to a new version keeps unwrapping with the version that wrapped
    const rotated = await keys.rotateKey(key.name);
    expect(rotated.properties.version).not.toBe(key.properties.version);
    expect(Buffer.from((await crypto.unwrapKey('RSA-OAEP-256', wrapped.result)).result).equals(dek)).toBe(true);

    // tampered ciphertext does not unwrap
    const tampered = Buffer.from(wrapped.result);
    tampered[10] = tampered[10]! ^ 0xff;
    expect(await statusOf(crypto.unwrapKey('RSA-OAEP-256', tampered))).toBe(400);
  });

  it('keys and secrets survive delete+recover and backup+purge+restore', async () => {
    const keyName = `kek-${randomUUID().slice(0, 8)}`;
    const key = await keys.createRsaKey(keyName);
    const del = await (await keys.beginDeleteKey(keyName, { intervalInMs: 50 })).pollUntilDone();
    expect(del.properties.recoveryId).toContain(`/deletedkeys/${keyName}`);
    expect(await statusOf(keys.getKey(keyName))).toBe(404);
    await (await keys.beginRecoverDeletedKey(keyName, { intervalInMs: 50 })).pollUntilDone();
    expect((await keys.getKey(keyName)).id).toBe(key.id);

    const secretName = `restored-${randomUUID().slice(0, 8)}`;
    await secrets.setSecret(secretName, 'kept');
    const blob = await secrets.backupSecret(secretName);
    await (await secrets.beginDeleteSecret(secretName, { intervalInMs: 50 })).pollUntilDone();
    await secrets.purgeDeletedSecret(secretName);
    await secrets.restoreSecretBackup(blob!);
    expect((await secrets.getSecret(secretName)).value).toBe('kept');
  });

  it('refuses an operation the key does not allow', async () => {
    const key = await keys.createRsaKey(`enc-only-${randomUUID().slice(0, 8)}`, { keyOps: ['encrypt', 'decrypt'] });
    // the SDK reads key_ops from the key it fetched and refuses before asking the vault ...
    const crypto = new CryptographyClient(key.id!, credential, sandboxKeyVaultOptions(caFile));
    await expect(crypto.unwrapKey('RSA-OAEP-256', randomBytes(256))).rejects.toThrow(/unwrapKey/);
    // ... and the vault refuses too when asked directly
    const res = await rawPost(`${key.id}/unwrapkey?api-version=7.5`, ca, { alg: 'RSA-OAEP-256', value: randomBytes(256).toString('base64url') });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body).error.code).toBe('Forbidden');
  });
});
