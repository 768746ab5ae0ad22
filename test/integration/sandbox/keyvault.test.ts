import { constants, createHash, createPrivateKey, createPublicKey, generateKeyPairSync, publicEncrypt, randomBytes, randomUUID, sign, verify } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'node:https';
import { beforeAll, describe, expect, it } from 'vitest';
import { SecretClient } from '@azure/keyvault-secrets';
import { CryptographyClient, KeyClient } from '@azure/keyvault-keys';
import { useSandbox } from '../../sandbox/use.js';
import { sandboxKeyVaultOptions } from '../../helpers/azure-clients.js';
import { KEYS_OPENAPI, OPENAPI_DIR, SECRETS_OPENAPI } from '../../fakes/keyvault/contract.js';

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

  describe('sign and verify (RSA keys) as the service does, bodies checked against the keys API definition', () => {
    const data = Buffer.from('{"manifestVersion":2,"id":"20261126T020000Z-3fa9c1"}');
    const digest = createHash('sha256').update(data).digest();
    const jwkPublic = (k: { n?: Uint8Array; e?: Uint8Array }) =>
      createPublicKey({ key: { kty: 'RSA', n: Buffer.from(k.n!).toString('base64url'), e: Buffer.from(k.e!).toString('base64url') }, format: 'jwk' });

    it.each([
      ['RS256', constants.RSA_PKCS1_PADDING],
      ['PS256', constants.RSA_PKCS1_PSS_PADDING],
    ] as const)('%s: the vault signs a SHA-256 digest; the signature verifies outside the vault over the data, and in it', async (alg, padding) => {
      const key = await keys.createRsaKey(`signer-${randomUUID().slice(0, 8)}`, { keySize: 2048 });
      const crypto = new CryptographyClient(key.id!, credential, sandboxKeyVaultOptions(caFile));
      const signed = await crypto.sign(alg, digest);
      expect(signed.keyID).toBe(key.id);
      expect(signed.result.length).toBe(256);
      // what node's own RSASSA verifier accepts over the undigested data: the vault signed that digest, as Azure does
      const outside = { key: jwkPublic(key.key!), padding, saltLength: 32 };
      expect(verify('sha256', data, outside, Buffer.from(signed.result))).toBe(true);
      expect(verify('sha256', Buffer.concat([data, Buffer.from(' ')]), outside, Buffer.from(signed.result))).toBe(false);
      expect((await crypto.verify(alg, digest, signed.result)).result).toBe(true);
      const flipped = Buffer.from(signed.result);
      flipped[7] = flipped[7]! ^ 0x01;
      expect((await crypto.verify(alg, digest, flipped)).result).toBe(false);
      expect((await crypto.verify(alg, createHash('sha256').update('other').digest(), signed.result)).result).toBe(false);
      // a digest of the wrong length is refused, not signed
      expect(await statusOf(crypto.sign(alg, randomBytes(20)))).toBe(400);
    });

    it('verifies signatures made outside the vault with the same (imported) key: RS256 and PS256, PSS salted per signature', async () => {
      const pems = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
      const priv = createPrivateKey(pems.privateKey);
      const jwk = priv.export({ format: 'jwk' });
      const toBytes = (v: string | undefined) => (v ? Buffer.from(v, 'base64url') : undefined);
      const imported = await keys.importKey(`imported-${randomUUID().slice(0, 8)}`, {
        kty: 'RSA', n: toBytes(jwk.n), e: toBytes(jwk.e), d: toBytes(jwk.d), p: toBytes(jwk.p), q: toBytes(jwk.q), dp: toBytes(jwk.dp), dq: toBytes(jwk.dq), qi: toBytes(jwk.qi),
      });
      const crypto = new CryptographyClient(imported.id!, credential, sandboxKeyVaultOptions(caFile));
      const rs = sign('sha256', data, { key: priv, padding: constants.RSA_PKCS1_PADDING });
      const ps = sign('sha256', data, { key: priv, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
      expect((await crypto.verify('RS256', digest, rs)).result).toBe(true);
      expect((await crypto.verify('PS256', digest, ps)).result).toBe(true);
      // the scheme is part of the signature: a PSS signature is not a PKCS#1 v1.5 one
      expect((await crypto.verify('RS256', digest, ps)).result).toBe(false);
      const a = await crypto.sign('PS256', digest);
      const b = await crypto.sign('PS256', digest);
      expect(Buffer.from(a.result).equals(Buffer.from(b.result))).toBe(false);
    });

    it('refuses sign on a key whose key_ops do not allow it, and bodies of the wrong shape with 400 naming the contract', async () => {
      const wrapOnly = await keys.createRsaKey(`wrap-only-${randomUUID().slice(0, 8)}`, { keyOps: ['wrapKey', 'unwrapKey'] });
      const res = await rawPost(`${wrapOnly.id}/sign?api-version=7.5`, ca, { alg: 'RS256', value: digest.toString('base64url') });
      expect(res.status).toBe(403);
      expect(JSON.parse(res.body).error.code).toBe('Forbidden');

      const key = await keys.createRsaKey(`shape-${randomUUID().slice(0, 8)}`);
      const cases: [string, string, unknown][] = [
        ['sign', 'without alg', { value: digest.toString('base64url') }],
        ['sign', 'an algorithm the API does not define', { alg: 'RS257', value: digest.toString('base64url') }],
        ['sign', 'base64 instead of base64url', { alg: 'RS256', value: `${digest.toString('base64')}+/=` }],
        ['verify', 'without digest', { alg: 'PS256', value: digest.toString('base64url') }],
      ];
      for (const [op, why, body] of cases) {
        const r = await rawPost(`${key.id}/${op}?api-version=7.5`, ca, body);
        expect({ why, status: r.status }).toEqual({ why, status: 400 });
        expect(JSON.parse(r.body).error.message).toContain('does not match the Key Vault API');
      }
      // the answer has the documented shape: KeyVerifyResult is {value: boolean}
      const ok = await rawPost(`${key.id}/verify?api-version=7.5`, ca, { alg: 'PS256', digest: digest.toString('base64url'), value: randomBytes(256).toString('base64url') });
      expect(JSON.parse(ok.body)).toEqual({ value: false });
    });
  });
});

/**
 * The fake checks bodies against copies of the Key Vault API definitions kept in the repository (a fresh clone has
 * no shared contracts folder); where that folder sits next to the checkout, the copies must be byte-identical to it.
 */
describe('Key Vault API definitions kept in the repository', () => {
  const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
  const shared = resolve(repoRoot, '..', 'shared', 'contracts', 'azure-openapi', 'specification', 'keyvault', 'data-plane');
  const present = existsSync(shared);

  for (const rel of [KEYS_OPENAPI, SECRETS_OPENAPI]) {
    it(`${rel} is byte-identical to the shared contract`, (ctx) => {
      // a checkout on its own (CI, a fresh clone) has only the copies: nothing to compare them with, said as a skip
      ctx.skip(!present, `no shared Key Vault contracts at ${shared} in this checkout, so the copy cannot be compared`);
      expect(readFileSync(join(OPENAPI_DIR, rel)).equals(readFileSync(join(shared, rel)))).toBe(true);
    });
  }
});
