/**
 * A FAKE Azure Key Vault for the sandbox. lowkey-vault (the real test double) is not served by the Maven registry
 * reachable here (lowkey-vault-app: 404 for every version), so this process speaks the Key Vault data-plane REST API
 * itself, well enough for the unmodified @azure/keyvault-secrets and @azure/keyvault-keys clients:
 *
 * - HTTPS only (certificate and key given by the sandbox component), like the real service;
 * - challenge authentication: a request without a bearer token gets 401 with the WWW-Authenticate challenge the
 *   real service sends; any non-empty bearer token is then accepted (no token is validated);
 * - api-version is required and must be one the service knows;
 * - secrets: set (new version each time), get (latest or a version), update properties, list, list versions,
 *   soft delete, get/list/purge/recover deleted, backup/restore; names are case-insensitive; values up to 25,600
 *   characters; disabled secrets refuse get;
 * - keys (RSA only): create, import, rotate, get, update, list, list versions, soft delete, get/list/purge/recover
 *   deleted, backup/restore, and encrypt/decrypt/wrapkey/unwrapkey with RSA-OAEP and RSA-OAEP-256, checked against
 *   the key's key_ops; release and EC/oct keys answer 501 so a test never mistakes them for working;
 * - sign/verify over a digest the caller computed, as the service does: RS256/384/512 (RSASSA-PKCS1-v1_5, the
 *   digest wrapped in its DigestInfo) and PS256/384/512 (RSASSA-PSS, MGF1 with the same hash, salt as long as the
 *   digest, RFC 7518 §3.5); the digest must have the hash's length; verify answers {value: false} for a signature
 *   that does not match, and 400 for an algorithm an RSA key cannot do;
 * - the bodies of every key operation (encrypt … verify) are checked against the Key Vault keys API definition
 *   (test/fakes/keyvault/openapi, via test/fakes/keyvault/contract.ts): a request of the wrong shape gets 400, and a
 *   response of the wrong shape is a bug of this fake, answered as 500 so the test that caused it fails.
 *
 * State lives in memory for the life of the process. Configured through the environment:
 *   KV_HOST, KV_PORT, KV_CERT (PEM chain), KV_KEY (PEM), KV_TENANT_ID
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import {
  constants,
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  privateDecrypt,
  privateEncrypt,
  publicDecrypt,
  publicEncrypt,
  randomBytes,
  randomUUID,
  timingSafeEqual,
  type KeyObject,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import { KeysContract } from '../../fakes/keyvault/contract.js';

const host = process.env.KV_HOST ?? '127.0.0.1';
const port = Number(process.env.KV_PORT ?? '0');
const tenantId = process.env.KV_TENANT_ID ?? '00000000-0000-0000-0000-000000000000';
const certFile = process.env.KV_CERT;
const keyFile = process.env.KV_KEY;
if (!port || !certFile || !keyFile) {
  console.error('keyvault-fake: KV_PORT, KV_CERT and KV_KEY must be set');
  process.exit(2);
}

/** Versions the real service accepts; the newest is what @azure/keyvault-secrets 4.11 sends. */
const API_VERSIONS = ['7.0', '7.1', '7.2', '7.3', '7.4', '7.5', '7.6', '2025-07-01'];
const LATEST_API_VERSION = '2025-07-01';
const MAX_SECRET_CHARS = 25_600;
const MAX_BODY_BYTES = 1024 * 1024;
const RECOVERABLE_DAYS = 90;
const RSA_KEY_OPS = ['encrypt', 'decrypt', 'sign', 'verify', 'wrapKey', 'unwrapKey'];
const NAME_RE = /^[0-9a-zA-Z-]{1,127}$/;

class KvError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly inner?: string,
  ) {
    super(message);
  }
}

interface Attributes {
  enabled: boolean;
  nbf?: number;
  exp?: number;
  created: number;
  updated: number;
}

interface SecretVersion {
  version: string;
  value: string;
  contentType?: string;
  tags?: Record<string, string>;
  attributes: Attributes;
}

interface KeyVersion {
  version: string;
  kty: string;
  keyOps: string[];
  privateKey: KeyObject;
  tags?: Record<string, string>;
  attributes: Attributes;
}

interface Entry<V> {
  name: string;
  versions: V[];
}

interface Deleted<V> {
  entry: Entry<V>;
  deletedDate: number;
  scheduledPurgeDate: number;
}

interface Store<V> {
  kind: 'secret' | 'key';
  live: Map<string, Entry<V>>;
  deleted: Map<string, Deleted<V>>;
}

const secrets: Store<SecretVersion> = { kind: 'secret', live: new Map(), deleted: new Map() };
const keys: Store<KeyVersion> = { kind: 'key', live: new Map(), deleted: new Map() };

const now = (): number => Math.floor(Date.now() / 1000);
const newVersion = (): string => randomUUID().replaceAll('-', '');
const b64u = (b: Buffer): string => b.toString('base64url');

function notFound(kind: 'secret' | 'key', what: string): KvError {
  const cap = kind === 'secret' ? 'Secret' : 'Key';
  return new KvError(404, `${cap}NotFound`, `A ${kind} with (name/id) ${what} was not found in this key vault.`);
}

function checkName(kind: string, name: string): void {
  if (!NAME_RE.test(name)) {
    throw new KvError(400, 'BadParameter', `The request URI contains an invalid name: ${name} (a ${kind} name is 1-127 letters, digits and dashes)`);
  }
}

function liveEntry<V>(store: Store<V>, name: string): Entry<V> {
  const e = store.live.get(name.toLowerCase());
  if (!e) throw notFound(store.kind, name);
  return e;
}

function pickVersion<V extends { version: string }>(store: Store<V>, name: string, version: string): V {
  const e = liveEntry(store, name);
  const v = version ? e.versions.find((x) => x.version === version) : e.versions[e.versions.length - 1];
  if (!v) throw notFound(store.kind, version ? `${name}/${version}` : name);
  return v;
}

/** A name that is soft-deleted can only be recovered or purged, as in the real service. */
function refuseIfDeleted<V>(store: Store<V>, name: string): void {
  if (store.deleted.has(name.toLowerCase())) {
    const cap = store.kind === 'secret' ? 'Secret' : 'Key';
    throw new KvError(
      409,
      'Conflict',
      `${cap} ${name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the ${store.kind} can only be recovered or purged.`,
      'ObjectIsDeletedButRecoverable',
    );
  }
}

function addVersion<V>(store: Store<V>, name: string, v: V): void {
  const k = name.toLowerCase();
  const e = store.live.get(k) ?? { name, versions: [] };
  e.versions.push(v);
  store.live.set(k, e);
}

function inputAttributes(body: Record<string, unknown>, prev?: Attributes): Attributes {
  const a = (body.attributes ?? {}) as Partial<Attributes>;
  const t = now();
  const out: Attributes = {
    enabled: a.enabled ?? prev?.enabled ?? true,
    created: prev?.created ?? t,
    updated: t,
  };
  const nbf = a.nbf ?? prev?.nbf;
  const exp = a.exp ?? prev?.exp;
  if (nbf !== undefined) out.nbf = nbf;
  if (exp !== undefined) out.exp = exp;
  return out;
}

function outputAttributes(a: Attributes): Record<string, unknown> {
  return { ...a, recoveryLevel: 'Recoverable+Purgeable', recoverableDays: RECOVERABLE_DAYS };
}

function tagsOf(body: Record<string, unknown>): Record<string, string> | undefined {
  const t = body.tags;
  if (t === undefined || t === null) return undefined;
  if (typeof t !== 'object' || Object.values(t).some((x) => typeof x !== 'string')) {
    throw new KvError(400, 'BadParameter', 'tags must be an object of strings');
  }
  return t as Record<string, string>;
}

// ---- secrets ----

function secretBundle(base: string, name: string, v: SecretVersion, withValue: boolean): Record<string, unknown> {
  return {
    ...(withValue ? { value: v.value } : {}),
    id: `${base}/secrets/${name}/${v.version}`,
    ...(v.contentType !== undefined ? { contentType: v.contentType } : {}),
    attributes: outputAttributes(v.attributes),
    ...(v.tags ? { tags: v.tags } : {}),
  };
}

function deletedSecretBundle(base: string, d: Deleted<SecretVersion>): Record<string, unknown> {
  const last = d.entry.versions[d.entry.versions.length - 1]!;
  return {
    ...secretBundle(base, d.entry.name, last, false),
    recoveryId: `${base}/deletedsecrets/${d.entry.name}`,
    deletedDate: d.deletedDate,
    scheduledPurgeDate: d.scheduledPurgeDate,
  };
}

function setSecret(base: string, name: string, body: Record<string, unknown>): Record<string, unknown> {
  checkName('secret', name);
  refuseIfDeleted(secrets, name);
  if (typeof body.value !== 'string') throw new KvError(400, 'BadParameter', 'The parameter value is required and must be a string.');
  if (body.value.length > MAX_SECRET_CHARS) {
    throw new KvError(400, 'BadParameter', `Secret is beyond the maximum permitted length of ${MAX_SECRET_CHARS} characters.`);
  }
  const v: SecretVersion = { version: newVersion(), value: body.value, attributes: inputAttributes(body) };
  if (typeof body.contentType === 'string') v.contentType = body.contentType;
  const tags = tagsOf(body);
  if (tags) v.tags = tags;
  addVersion(secrets, name, v);
  return secretBundle(base, liveEntry(secrets, name).name, v, true);
}

function getSecret(base: string, name: string, version: string): Record<string, unknown> {
  const v = pickVersion(secrets, name, version);
  if (!v.attributes.enabled) {
    throw new KvError(403, 'Forbidden', 'Operation get is not allowed on a disabled secret.', 'SecretDisabled');
  }
  return secretBundle(base, liveEntry(secrets, name).name, v, true);
}

function updateSecret(base: string, name: string, version: string, body: Record<string, unknown>): Record<string, unknown> {
  const v = pickVersion(secrets, name, version);
  v.attributes = inputAttributes(body, v.attributes);
  if (typeof body.contentType === 'string') v.contentType = body.contentType;
  const tags = tagsOf(body);
  if (tags) v.tags = tags;
  return secretBundle(base, liveEntry(secrets, name).name, v, false);
}

// ---- keys ----

function jwkOf(base: string, name: string, v: KeyVersion): Record<string, unknown> {
  const pub = createPublicKey(v.privateKey).export({ format: 'jwk' });
  return { kid: `${base}/keys/${name}/${v.version}`, kty: v.kty, key_ops: v.keyOps, n: pub.n, e: pub.e };
}

function keyBundle(base: string, name: string, v: KeyVersion): Record<string, unknown> {
  return { key: jwkOf(base, name, v), attributes: outputAttributes(v.attributes), ...(v.tags ? { tags: v.tags } : {}) };
}

function keyItem(base: string, name: string, v: KeyVersion): Record<string, unknown> {
  return { kid: `${base}/keys/${name}/${v.version}`, attributes: outputAttributes(v.attributes), ...(v.tags ? { tags: v.tags } : {}) };
}

function deletedKeyBundle(base: string, d: Deleted<KeyVersion>, item: boolean): Record<string, unknown> {
  const last = d.entry.versions[d.entry.versions.length - 1]!;
  return {
    ...(item ? keyItem(base, d.entry.name, last) : keyBundle(base, d.entry.name, last)),
    recoveryId: `${base}/deletedkeys/${d.entry.name}`,
    deletedDate: d.deletedDate,
    scheduledPurgeDate: d.scheduledPurgeDate,
  };
}

function rsaKty(kty: unknown): string {
  if (kty === 'RSA' || kty === 'RSA-HSM') return kty;
  throw new KvError(501, 'NotImplemented', `key type ${String(kty)} is not implemented by the sandbox Key Vault fake (RSA and RSA-HSM are)`);
}

function keyOpsOf(body: Record<string, unknown>, fallback: string[]): string[] {
  const ops = body.key_ops;
  if (ops === undefined || ops === null) return fallback;
  if (!Array.isArray(ops) || ops.some((o) => !RSA_KEY_OPS.includes(String(o)))) {
    throw new KvError(400, 'BadParameter', `key_ops must be a subset of ${RSA_KEY_OPS.join(', ')}`);
  }
  return ops.map(String);
}

/**
 * A new RSA private key that shares nothing with the key generation job. Node 20's generateKeyPairSync returns
 * KeyObjects that share their lock with the finished job; when a garbage collection during a later export of the
 * key (our JWK bundles) finalises that job, its destructor waits for the lock the export holds, and the process
 * hangs for good (seen in CI and here: gdb shows ~KeyGenJob in uv_mutex_lock under ExportJWK). Taking the key as
 * PEM and parsing it again gives it a lock of its own.
 */
function newRsaKey(modulusLength: number, publicExponent = 65537): KeyObject {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength,
    publicExponent,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return createPrivateKey(privateKey);
}

function createKey(base: string, name: string, body: Record<string, unknown>): Record<string, unknown> {
  checkName('key', name);
  refuseIfDeleted(keys, name);
  const kty = rsaKty(body.kty);
  const size = body.key_size === undefined ? 2048 : Number(body.key_size);
  if (![2048, 3072, 4096].includes(size)) throw new KvError(400, 'BadParameter', `Invalid key size ${size}: 2048, 3072 or 4096`);
  const exponent = body.public_exponent === undefined ? 65537 : Number(body.public_exponent);
  const privateKey = newRsaKey(size, exponent);
  const v: KeyVersion = { version: newVersion(), kty, keyOps: keyOpsOf(body, RSA_KEY_OPS), privateKey, attributes: inputAttributes(body) };
  const tags = tagsOf(body);
  if (tags) v.tags = tags;
  addVersion(keys, name, v);
  return keyBundle(base, liveEntry(keys, name).name, v);
}

function importKey(base: string, name: string, body: Record<string, unknown>): Record<string, unknown> {
  checkName('key', name);
  refuseIfDeleted(keys, name);
  const jwk = body.key as Record<string, unknown> | undefined;
  if (!jwk || typeof jwk !== 'object') throw new KvError(400, 'BadParameter', 'key (a JSON Web Key) is required');
  const kty = rsaKty(jwk.kty);
  let privateKey: KeyObject;
  try {
    const fields = Object.fromEntries(['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'].map((f) => [f, jwk[f]]));
    privateKey = createPrivateKey({ key: { kty: 'RSA', ...fields } as never, format: 'jwk' });
  } catch (err) {
    throw new KvError(400, 'BadParameter', `the key is not a complete RSA private key: ${(err as Error).message}`);
  }
  const v: KeyVersion = {
    version: newVersion(),
    kty,
    keyOps: keyOpsOf(jwk, RSA_KEY_OPS),
    privateKey,
    attributes: inputAttributes(body),
  };
  const tags = tagsOf(body);
  if (tags) v.tags = tags;
  addVersion(keys, name, v);
  return keyBundle(base, liveEntry(keys, name).name, v);
}

function rotateKey(base: string, name: string): Record<string, unknown> {
  const last = pickVersion(keys, name, '');
  const size = createPublicKey(last.privateKey).asymmetricKeyDetails?.modulusLength ?? 2048;
  const privateKey = newRsaKey(size);
  const v: KeyVersion = { version: newVersion(), kty: last.kty, keyOps: [...last.keyOps], privateKey, attributes: inputAttributes({}) };
  if (last.tags) v.tags = { ...last.tags };
  addVersion(keys, name, v);
  return keyBundle(base, liveEntry(keys, name).name, v);
}

function updateKey(base: string, name: string, version: string, body: Record<string, unknown>): Record<string, unknown> {
  const v = pickVersion(keys, name, version);
  v.attributes = inputAttributes(body, v.attributes);
  v.keyOps = keyOpsOf(body, v.keyOps);
  const tags = tagsOf(body);
  if (tags) v.tags = tags;
  return keyBundle(base, liveEntry(keys, name).name, v);
}

const OPERATIONS: Record<string, string> = { encrypt: 'encrypt', decrypt: 'decrypt', wrapkey: 'wrapKey', unwrapkey: 'unwrapKey', sign: 'sign', verify: 'verify' };

interface SignatureAlgorithm {
  readonly hash: 'sha256' | 'sha384' | 'sha512';
  readonly pss: boolean;
}
const SIGNATURE_ALGORITHMS: Record<string, SignatureAlgorithm> = {
  RS256: { hash: 'sha256', pss: false },
  RS384: { hash: 'sha384', pss: false },
  RS512: { hash: 'sha512', pss: false },
  PS256: { hash: 'sha256', pss: true },
  PS384: { hash: 'sha384', pss: true },
  PS512: { hash: 'sha512', pss: true },
};
/** DER DigestInfo prefixes of RFC 8017 §9.2 note 1: what RSASSA-PKCS1-v1_5 signs in front of the digest. */
const DIGEST_INFO: Record<SignatureAlgorithm['hash'], Buffer> = {
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha384: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  sha512: Buffer.from('3051300d060960864801650304020305000440', 'hex'),
};
const HASH_BYTES: Record<SignatureAlgorithm['hash'], number> = { sha256: 32, sha384: 48, sha512: 64 };

function mgf1(hash: string, seed: Buffer, length: number): Buffer {
  const out: Buffer[] = [];
  for (let i = 0, n = 0; n < length; i++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(i);
    const block = createHash(hash).update(seed).update(c).digest();
    out.push(block);
    n += block.length;
  }
  return Buffer.concat(out).subarray(0, length);
}

/** EMSA-PSS-ENCODE (RFC 8017 §9.1.1) of a digest, salt length = digest length, as `k` bytes for a raw RSA operation. */
function pssEncode(hash: SignatureAlgorithm['hash'], digest: Buffer, modBits: number): Buffer {
  const hLen = HASH_BYTES[hash];
  const emBits = modBits - 1;
  const emLen = Math.ceil(emBits / 8);
  const salt = randomBytes(hLen);
  const h = createHash(hash).update(Buffer.alloc(8)).update(digest).update(salt).digest();
  const db = Buffer.concat([Buffer.alloc(emLen - 2 * hLen - 2), Buffer.from([1]), salt]);
  const mask = mgf1(hash, h, db.length);
  for (let i = 0; i < db.length; i++) db[i] = db[i]! ^ mask[i]!;
  db[0] = db[0]! & (0xff >> (8 * emLen - emBits));
  const em = Buffer.concat([db, h, Buffer.from([0xbc])]);
  return Buffer.concat([Buffer.alloc(Math.ceil(modBits / 8) - emLen), em]);
}

/** EMSA-PSS-VERIFY (RFC 8017 §9.1.2) of the raw RSA result `m` (k bytes). */
function pssVerify(hash: SignatureAlgorithm['hash'], digest: Buffer, m: Buffer, modBits: number): boolean {
  const hLen = HASH_BYTES[hash];
  const emBits = modBits - 1;
  const emLen = Math.ceil(emBits / 8);
  if (m.subarray(0, m.length - emLen).some((b) => b !== 0)) return false;
  const em = m.subarray(m.length - emLen);
  if (emLen < 2 * hLen + 2 || em[emLen - 1] !== 0xbc) return false;
  const db = Buffer.from(em.subarray(0, emLen - hLen - 1));
  const h = em.subarray(emLen - hLen - 1, emLen - 1);
  if ((db[0]! & ~(0xff >> (8 * emLen - emBits)) & 0xff) !== 0) return false;
  const mask = mgf1(hash, h, db.length);
  for (let i = 0; i < db.length; i++) db[i] = db[i]! ^ mask[i]!;
  db[0] = db[0]! & (0xff >> (8 * emLen - emBits));
  const ps = emLen - 2 * hLen - 2;
  if (db.subarray(0, ps).some((b) => b !== 0) || db[ps] !== 1) return false;
  const salt = db.subarray(ps + 1);
  const h2 = createHash(hash).update(Buffer.alloc(8)).update(digest).update(salt).digest();
  return timingSafeEqual(h, h2);
}

function signatureAlgorithm(alg: string, digest: Buffer): SignatureAlgorithm {
  const a = SIGNATURE_ALGORITHMS[alg];
  if (!a) throw new KvError(400, 'BadParameter', `Algorithm ${alg} is not supported for an RSA key (RS256, RS384, RS512, PS256, PS384, PS512 are)`);
  if (digest.length !== HASH_BYTES[a.hash]) {
    throw new KvError(400, 'BadParameter', `Invalid digest length: ${alg} takes a ${HASH_BYTES[a.hash]}-byte digest, got ${digest.length} bytes`);
  }
  return a;
}

function signDigest(key: KeyObject, alg: string, digest: Buffer): Buffer {
  const a = signatureAlgorithm(alg, digest);
  if (!a.pss) return privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([DIGEST_INFO[a.hash], digest]));
  const modBits = key.asymmetricKeyDetails?.modulusLength ?? 2048;
  return privateEncrypt({ key, padding: constants.RSA_NO_PADDING }, pssEncode(a.hash, digest, modBits));
}

function verifyDigest(key: KeyObject, alg: string, digest: Buffer, signature: Buffer): boolean {
  const a = signatureAlgorithm(alg, digest);
  const pub = createPublicKey(key);
  const modBits = pub.asymmetricKeyDetails?.modulusLength ?? 2048;
  if (signature.length !== Math.ceil(modBits / 8)) return false;
  try {
    if (!a.pss) {
      const expected = Buffer.concat([DIGEST_INFO[a.hash], digest]);
      const got = publicDecrypt({ key: pub, padding: constants.RSA_PKCS1_PADDING }, signature);
      return got.length === expected.length && timingSafeEqual(got, expected);
    }
    return pssVerify(a.hash, digest, publicDecrypt({ key: pub, padding: constants.RSA_NO_PADDING }, signature), modBits);
  } catch {
    // not a valid RSA signature value for this key (e.g. out of range or bad padding): it does not verify
    return false;
  }
}

function keyOperation(base: string, name: string, version: string, op: string, body: Record<string, unknown>): Record<string, unknown> {
  const operation = OPERATIONS[op];
  if (!operation) throw new KvError(501, 'NotImplemented', `operation ${op} is not implemented by the sandbox Key Vault fake`);
  const v = pickVersion(keys, name, version);
  if (!v.attributes.enabled) throw new KvError(403, 'Forbidden', `Operation ${operation} is not allowed on a disabled key.`, 'KeyDisabled');
  const t = now();
  if ((v.attributes.exp !== undefined && t > v.attributes.exp) || (v.attributes.nbf !== undefined && t < v.attributes.nbf)) {
    throw new KvError(403, 'Forbidden', `Operation ${operation} is not allowed on a key outside its validity period.`);
  }
  if (!v.keyOps.includes(operation)) {
    throw new KvError(403, 'Forbidden', `Operation ${operation} is not permitted on this key.`, 'KeyOperationForbidden');
  }
  const alg = String(body.alg ?? '');
  const kid = `${base}/keys/${liveEntry(keys, name).name}/${v.version}`;
  if (typeof body.value !== 'string') throw new KvError(400, 'BadParameter', 'value (base64url) is required');
  const input = Buffer.from(body.value, 'base64url');
  if (operation === 'sign') return { kid, value: b64u(signDigest(v.privateKey, alg, input)) };
  if (operation === 'verify') {
    if (typeof body.digest !== 'string') throw new KvError(400, 'BadParameter', 'digest (base64url) is required');
    return { value: verifyDigest(v.privateKey, alg, Buffer.from(body.digest, 'base64url'), input) };
  }
  const oaepHash = alg === 'RSA-OAEP' ? 'sha1' : alg === 'RSA-OAEP-256' ? 'sha256' : undefined;
  if (!oaepHash) {
    throw new KvError(400, 'BadParameter', `Algorithm ${alg} is not supported here (RSA-OAEP and RSA-OAEP-256 are; RSA1_5 is not implemented by the sandbox fake)`);
  }
  const encrypting = operation === 'encrypt' || operation === 'wrapKey';
  let out: Buffer;
  try {
    out = encrypting
      ? publicEncrypt({ key: createPublicKey(v.privateKey), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, input)
      : privateDecrypt({ key: v.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, input);
  } catch (err) {
    throw new KvError(400, 'BadParameter', `${operation} failed: ${(err as Error).message}`);
  }
  return { kid, value: b64u(out) };
}

// ---- shared: delete, recover, purge, backup, restore, paging ----

function softDelete<V>(store: Store<V>, name: string): Deleted<V> {
  const e = liveEntry(store, name);
  const t = now();
  const d: Deleted<V> = { entry: e, deletedDate: t, scheduledPurgeDate: t + RECOVERABLE_DAYS * 86_400 };
  store.live.delete(name.toLowerCase());
  store.deleted.set(name.toLowerCase(), d);
  return d;
}

function deletedEntry<V>(store: Store<V>, name: string): Deleted<V> {
  const d = store.deleted.get(name.toLowerCase());
  if (!d) throw notFound(store.kind, name);
  return d;
}

function recover<V>(store: Store<V>, name: string): Entry<V> {
  const d = deletedEntry(store, name);
  store.deleted.delete(name.toLowerCase());
  store.live.set(name.toLowerCase(), d.entry);
  return d.entry;
}

interface SecretBackup {
  kind: 'secret';
  name: string;
  versions: SecretVersion[];
}
interface KeyBackup {
  kind: 'key';
  name: string;
  versions: (Omit<KeyVersion, 'privateKey'> & { pem: string })[];
}

function backup(store: Store<SecretVersion> | Store<KeyVersion>, name: string): { value: string } {
  let blob: SecretBackup | KeyBackup;
  if (store.kind === 'secret') {
    const e = liveEntry(store as Store<SecretVersion>, name);
    blob = { kind: 'secret', name: e.name, versions: e.versions };
  } else {
    const e = liveEntry(store as Store<KeyVersion>, name);
    blob = {
      kind: 'key',
      name: e.name,
      versions: e.versions.map(({ privateKey, ...rest }) => ({
        ...rest,
        pem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      })),
    };
  }
  return { value: b64u(Buffer.from(JSON.stringify(blob))) };
}

function restore(base: string, kind: 'secret' | 'key', body: Record<string, unknown>): Record<string, unknown> {
  let blob: SecretBackup | KeyBackup;
  try {
    blob = JSON.parse(Buffer.from(String(body.value ?? ''), 'base64url').toString('utf8')) as SecretBackup | KeyBackup;
  } catch {
    throw new KvError(400, 'BadParameter', 'The backup blob is not valid.');
  }
  if (blob.kind !== kind) throw new KvError(400, 'BadParameter', `The backup blob is not a ${kind} backup.`);
  const store: Store<unknown> = kind === 'secret' ? secrets : keys;
  const k = blob.name.toLowerCase();
  if (store.live.has(k) || store.deleted.has(k)) {
    throw new KvError(409, 'Conflict', `${kind} ${blob.name} already exists (or is deleted and not purged); restore needs a free name.`);
  }
  if (blob.kind === 'secret') {
    secrets.live.set(k, { name: blob.name, versions: blob.versions });
    return secretBundle(base, blob.name, blob.versions[blob.versions.length - 1]!, false);
  }
  const versions = blob.versions.map(({ pem, ...rest }) => ({ ...rest, privateKey: createPrivateKey(pem) }));
  keys.live.set(k, { name: blob.name, versions });
  return keyBundle(base, blob.name, versions[versions.length - 1]!);
}

function page(base: string, url: URL, all: Record<string, unknown>[]): Record<string, unknown> {
  const max = url.searchParams.has('maxresults') ? Number(url.searchParams.get('maxresults')) : 25;
  if (!Number.isInteger(max) || max < 1 || max > 25) throw new KvError(400, 'BadParameter', 'maxresults must be between 1 and 25');
  const skip = Number(url.searchParams.get('$skiptoken') ?? '0') || 0;
  const value = all.slice(skip, skip + max);
  let nextLink: string | null = null;
  if (skip + max < all.length) {
    const next = new URL(`${base}${url.pathname}`);
    next.searchParams.set('api-version', url.searchParams.get('api-version') ?? LATEST_API_VERSION);
    next.searchParams.set('$skiptoken', String(skip + max));
    next.searchParams.set('maxresults', String(max));
    nextLink = next.toString();
  }
  return { value, nextLink };
}

// ---- HTTP ----

function route(
  method: string,
  parts: string[],
  base: string,
  url: URL,
  body: Record<string, unknown>,
): { status: number; body?: unknown } {
  const [collection, name = '', third, fourth] = parts;
  const ok = (b: unknown): { status: number; body: unknown } => ({ status: 200, body: b });
  const latest = <V>(e: Entry<V>): V => e.versions[e.versions.length - 1]!;

  if (collection === 'secrets') {
    if (parts.length === 1 && method === 'GET') {
      return ok(page(base, url, [...secrets.live.values()].map((e) => secretBundle(base, e.name, latest(e), false))));
    }
    if (name === 'restore' && parts.length === 2 && method === 'POST') return ok(restore(base, 'secret', body));
    if (parts.length === 2 && method === 'PUT') return ok(setSecret(base, name, body));
    if (parts.length === 2 && method === 'DELETE') return ok(deletedSecretBundle(base, softDelete(secrets, name)));
    // "GET /secrets/name/" (empty version, the trailing slash dropped by the split) is how clients ask for the latest
    if (parts.length === 2 && method === 'GET') return ok(getSecret(base, name, ''));
    if (third === 'versions' && parts.length === 3 && method === 'GET') {
      const e = liveEntry(secrets, name);
      return ok(page(base, url, e.versions.map((v) => secretBundle(base, e.name, v, false))));
    }
    if (third === 'backup' && parts.length === 3 && method === 'POST') return ok(backup(secrets, name));
    if (parts.length === 3 && method === 'GET') return ok(getSecret(base, name, third ?? ''));
    if (parts.length === 3 && method === 'PATCH') return ok(updateSecret(base, name, third ?? '', body));
  }

  if (collection === 'deletedsecrets') {
    if (parts.length === 1 && method === 'GET') {
      return ok(page(base, url, [...secrets.deleted.values()].map((d) => deletedSecretBundle(base, d))));
    }
    if (parts.length === 2 && method === 'GET') return ok(deletedSecretBundle(base, deletedEntry(secrets, name)));
    if (parts.length === 2 && method === 'DELETE') {
      deletedEntry(secrets, name);
      secrets.deleted.delete(name.toLowerCase());
      return { status: 204 };
    }
    if (third === 'recover' && parts.length === 3 && method === 'POST') {
      const e = recover(secrets, name);
      return ok(secretBundle(base, e.name, latest(e), false));
    }
  }

  if (collection === 'keys') {
    if (parts.length === 1 && method === 'GET') {
      return ok(page(base, url, [...keys.live.values()].map((e) => keyItem(base, e.name, latest(e)))));
    }
    if (name === 'restore' && parts.length === 2 && method === 'POST') return ok(restore(base, 'key', body));
    if (parts.length === 2 && method === 'PUT') return ok(importKey(base, name, body));
    if (parts.length === 2 && method === 'DELETE') return ok(deletedKeyBundle(base, softDelete(keys, name), false));
    if (parts.length === 2 && method === 'GET') return ok(keyBundle(base, liveEntry(keys, name).name, pickVersion(keys, name, '')));
    if (third === 'create' && parts.length === 3 && method === 'POST') return ok(createKey(base, name, body));
    if (third === 'rotate' && parts.length === 3 && method === 'POST') return ok(rotateKey(base, name));
    if (third === 'backup' && parts.length === 3 && method === 'POST') return ok(backup(keys, name));
    if (third === 'versions' && parts.length === 3 && method === 'GET') {
      const e = liveEntry(keys, name);
      return ok(page(base, url, e.versions.map((v) => keyItem(base, e.name, v))));
    }
    if (parts.length === 3 && method === 'GET') return ok(keyBundle(base, liveEntry(keys, name).name, pickVersion(keys, name, third ?? '')));
    if (parts.length === 3 && method === 'PATCH') return ok(updateKey(base, name, third ?? '', body));
    if (parts.length === 4 && method === 'POST') return ok(keyOperation(base, name, third ?? '', fourth ?? '', body));
  }

  if (collection === 'deletedkeys') {
    if (parts.length === 1 && method === 'GET') {
      return ok(page(base, url, [...keys.deleted.values()].map((d) => deletedKeyBundle(base, d, true))));
    }
    if (parts.length === 2 && method === 'GET') return ok(deletedKeyBundle(base, deletedEntry(keys, name), false));
    if (parts.length === 2 && method === 'DELETE') {
      deletedEntry(keys, name);
      keys.deleted.delete(name.toLowerCase());
      return { status: 204 };
    }
    if (third === 'recover' && parts.length === 3 && method === 'POST') {
      const e = recover(keys, name);
      return ok(keyBundle(base, e.name, latest(e)));
    }
  }

  throw new KvError(501, 'NotImplemented', `${method} /${parts.join('/')} is not implemented by the sandbox Key Vault fake`);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new KvError(413, 'RequestTooLarge', 'The request body is too large.'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function reply(res: ServerResponse, status: number, body?: unknown, extra: Record<string, string> = {}): void {
  const headers: Record<string, string> = {
    'x-ms-request-id': randomUUID(),
    'x-ms-keyvault-service-version': 'sandbox-fake',
    'cache-control': 'no-cache',
    ...extra,
  };
  if (body === undefined) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const method = req.method ?? 'GET';
  const base = `https://${req.headers.host ?? `${host}:${port}`}`;
  const url = new URL(req.url ?? '/', base);
  // drain the body before answering, so keep-alive connections stay usable after a 401
  const raw = await readBody(req);
  if (url.pathname === '/healthz' && method === 'GET') {
    reply(res, 200, { ok: true, secrets: secrets.live.size, keys: keys.live.size });
    return;
  }
  const auth = req.headers.authorization ?? '';
  if (!/^Bearer \S+/i.test(auth)) {
    reply(
      res,
      401,
      { error: { code: 'Unauthorized', message: 'AKV10000: Request is missing a Bearer or PoP token.' } },
      {
        'www-authenticate': `Bearer authorization="https://login.microsoftonline.com/${tenantId}", resource="https://vault.azure.net"`,
      },
    );
    return;
  }
  const apiVersion = url.searchParams.get('api-version');
  if (!apiVersion) throw new KvError(400, 'BadParameter', 'The api-version query parameter (?api-version=) is required for all requests.');
  if (!API_VERSIONS.includes(apiVersion)) {
    throw new KvError(
      400,
      'BadParameter',
      `The specified version (${apiVersion}) is not recognized. Consider using the latest supported version (${LATEST_API_VERSION}).`,
    );
  }
  let body: Record<string, unknown> = {};
  if (raw.length > 0) {
    try {
      body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
    } catch {
      throw new KvError(400, 'BadParameter', 'The request body is not valid JSON.');
    }
  }
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const documented = contractPath(method, parts);
  if (!documented) {
    const result = route(method, parts, base, url, body);
    reply(res, result.status, result.body);
    return;
  }
  const wrong = contract.checkRequest(method, documented, body);
  if (wrong) throw new KvError(400, 'BadParameter', `The request body does not match the Key Vault API: ${wrong}`);
  let result: { status: number; body?: unknown };
  try {
    result = route(method, parts, base, url, body);
  } catch (err) {
    if (!(err instanceof KvError)) throw err;
    result = { status: err.status, body: errorBody(err) };
  }
  const bad = contract.checkResponse(method, documented, result.status, result.body);
  if (bad) throw new Error(`the fake's own answer does not match the Key Vault API: ${bad}`);
  reply(res, result.status, result.body);
}

const contract = new KeysContract();

/** The documented path of a key operation (POST /keys/{name}/{version}/{op}), whose bodies the contract checks. */
function contractPath(method: string, parts: string[]): string | undefined {
  const op = parts[3];
  if (method !== 'POST' || parts.length !== 4 || parts[0] !== 'keys' || !op || !(op in OPERATIONS)) return undefined;
  return `/keys/{key-name}/{key-version}/${op}`;
}

function errorBody(err: KvError): unknown {
  return { error: { code: err.code, message: err.message, ...(err.inner ? { innererror: { code: err.inner } } : {}) } };
}

const server = createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, (req, res) => {
  handle(req, res).catch((err: unknown) => {
    if (err instanceof KvError) {
      reply(res, err.status, errorBody(err));
      return;
    }
    console.error(err);
    reply(res, 500, { error: { code: 'InternalError', message: (err as Error).message } });
  });
});

// arrival and answer both logged, so a request that never got its answer shows in the log's tail
server.on('request', (req: IncomingMessage, res: ServerResponse) => {
  const t0 = Date.now();
  console.log(`→ ${req.method} ${req.url}`);
  res.on('finish', () => console.log(`← ${req.method} ${req.url} ${res.statusCode} ${Date.now() - t0} ms`));
});

server.listen(port, host, () => {
  console.log(`sandbox Key Vault FAKE listening on https://${host}:${port} (tenant ${tenantId})`);
});

function shutdown(): void {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2_000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
