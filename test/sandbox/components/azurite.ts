import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../paths.js';
import { SandboxError } from '../errors.js';
import type { Component } from '../types.js';

const AZURITE_BLOB_MAIN = 'node_modules/azurite/dist/src/blob/main.js';

/** Azurite's built-in development account; the name and key are public (documented by Microsoft). */
const ACCOUNT_NAME = 'devstoreaccount1';
const ACCOUNT_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

function azuriteVersion(): string {
  const file = join(repoRoot, 'node_modules', 'azurite', 'package.json');
  if (!existsSync(file)) return 'not-installed';
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

/**
 * Azure Blob Storage: Azurite's blob service from npm (a devDependency; 3.35 is the newest that runs on Node 20).
 * Only the blob service runs: the bot uses no queues or tables.
 */
export const azurite: Component = {
  name: 'azurite',
  version: azuriteVersion(),
  description: 'Azure Blob Storage emulator (Azurite, blob service only)',
  kind: 'service',

  async build(ctx) {
    if (!existsSync(join(ctx.repoRoot, AZURITE_BLOB_MAIN))) {
      throw new SandboxError('azurite', `azurite is not installed (${AZURITE_BLOB_MAIN} missing); run npm ci`);
    }
  },

  async start(ctx) {
    const host = '127.0.0.1';
    const port = await ctx.freePort();
    const location = join(ctx.runDir, 'data');
    mkdirSync(location, { recursive: true });
    const proc = await ctx.spawnService({
      name: 'blob',
      command: process.execPath,
      args: [
        join(ctx.repoRoot, AZURITE_BLOB_MAIN),
        '--blobHost',
        host,
        '--blobPort',
        String(port),
        '--location',
        location,
        // otherwise it tries to send telemetry, and there is no network here
        '--disableTelemetry',
        // @azure/storage-blob 12.32 sends x-ms-version 2026-04-06, newer than Azurite 3.35 knows; without this
        // every request is refused with 400 InvalidHeaderValue
        '--skipApiVersionCheck',
      ],
    });
    const blobUrl = `http://${host}:${port}/${ACCOUNT_NAME}`;
    // Any HTTP answer from the account URL means the listener is up (an anonymous request gets an error status).
    await ctx.waitFor('Azurite blob endpoint', async () => (await fetch(`${blobUrl}?comp=list`)).status > 0, {
      process: proc,
      timeoutMs: 30_000,
    });
    const connectionString =
      `DefaultEndpointsProtocol=http;AccountName=${ACCOUNT_NAME};AccountKey=${ACCOUNT_KEY};` + `BlobEndpoint=${blobUrl};`;
    return { blobUrl, connectionString, accountName: ACCOUNT_NAME, accountKey: ACCOUNT_KEY, port: String(port), dataDir: location };
  },

  probe: async (e) => (await fetch(`${e.blobUrl!}?comp=list`, { signal: AbortSignal.timeout(5_000) })).status > 0,
};
