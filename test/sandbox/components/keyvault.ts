import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { SandboxError } from '../errors.js';
import type { Component, ComponentContext } from '../types.js';

const SERVER_SCRIPT = 'test/sandbox/servers/keyvault-fake.ts';

/**
 * A throwaway CA and a server certificate for 127.0.0.1 signed by it, made with the openssl CLI for each run.
 * Clients trust the CA file only (e.g. `tlsOptions: { ca }` on the Key Vault clients), nothing process-wide.
 */
async function makeCertificates(ctx: ComponentContext, dir: string): Promise<{ ca: string; cert: string; key: string }> {
  mkdirSync(dir, { recursive: true });
  const f = (n: string): string => join(dir, n);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await ctx.run('openssl', [
    'req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '30',
    '-subj', '/CN=aks-lifecycle-bot sandbox CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await ctx.run('openssl', ['req', ...ec, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=127.0.0.1']);
  writeFileSync(
    f('server.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n',
  );
  await ctx.run('openssl', [
    'x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial',
    '-out', f('server.pem'), '-days', '30', '-extfile', f('server.ext'),
  ]);
  return { ca: f('ca.pem'), cert: f('server.pem'), key: f('server.key') };
}

/** The health check goes through TLS with the run's CA, so a certificate problem shows up at start. */
function healthy(url: string, ca: string, timeoutMs = 2_000): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/healthz`, { ca, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Azure Key Vault: a FAKE (test/sandbox/servers/keyvault-fake.ts) speaking the Key Vault secrets and keys REST API
 * over HTTPS with challenge authentication. lowkey-vault was the plan, but Maven Central as reached here does not
 * serve com.github.nagyesta.lowkey-vault:lowkey-vault-app (404 for every version; its client and testcontainers
 * artifacts are served).
 */
export const keyvault: Component = {
  name: 'keyvault',
  version: 'fake-kv-2025-07-01',
  description: 'FAKE Azure Key Vault (secrets + RSA keys REST API, HTTPS, challenge auth); lowkey-vault is not served here',
  kind: 'service',
  buildInputs: [SERVER_SCRIPT, 'test/fakes/keyvault/contract.ts', 'test/fakes/keyvault/openapi/Keys/stable/7.5/keys.json'],

  async build(ctx) {
    if (!existsSync(join(ctx.repoRoot, 'node_modules', 'tsx', 'package.json'))) {
      throw new SandboxError('keyvault', 'npm package tsx is not installed; run npm ci');
    }
    try {
      // cwd: the run folder does not exist at build time
      await ctx.run('openssl', ['version'], { cwd: ctx.cacheDir });
    } catch (err) {
      throw new SandboxError('keyvault', `needs the openssl CLI (Debian package openssl) for its per-run TLS certificate: ${(err as Error).message}`);
    }
  },

  async start(ctx) {
    const host = '127.0.0.1';
    const port = await ctx.freePort();
    const tenantId = randomUUID();
    const certs = await makeCertificates(ctx, join(ctx.runDir, 'tls'));
    const proc = await ctx.spawnService({
      name: 'keyvault-fake',
      command: process.execPath,
      args: ['--import', 'tsx', join(ctx.repoRoot, SERVER_SCRIPT)],
      cwd: ctx.repoRoot,
      env: { KV_HOST: host, KV_PORT: String(port), KV_CERT: certs.cert, KV_KEY: certs.key, KV_TENANT_ID: tenantId },
    });
    const vaultUrl = `https://${host}:${port}`;
    const ca = readFileSync(certs.ca, 'utf8');
    await ctx.waitFor('Key Vault fake over HTTPS', () => healthy(vaultUrl, ca), { process: proc, timeoutMs: 30_000 });
    return { vaultUrl, port: String(port), caFile: certs.ca, tenantId, kind: 'fake' };
  },

  // generous: a false alarm would restart a vault another suite is using
  probe: (e) => healthy(e.vaultUrl!, readFileSync(e.caFile!, 'utf8'), 5_000),
};
