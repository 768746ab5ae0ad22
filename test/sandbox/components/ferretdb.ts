import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import type { Component } from '../types.js';

const MODULE_DIR = 'infrastructure/sandbox/go/ferretdb';
const FERRETDB_MODULE = 'github.com/FerretDB/FerretDB';
const FERRETDB_VERSION = '1.24.2';

/** True once the server answers a `ping` command through the MongoDB driver (listener up, SQLite backend open). */
async function pings(uri: string, timeoutMs = 1_500): Promise<boolean> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: timeoutMs, connectTimeoutMS: timeoutMs, socketTimeoutMS: timeoutMs });
  try {
    const r = await client.db('admin').command({ ping: 1 });
    return r.ok === 1;
  } finally {
    await client.close();
  }
}

/**
 * FerretDB v1 (MongoDB wire protocol) with its SQLite backend, built from the Go module.
 *
 * cmd/ferretdb panics at start when built straight from the module proxy: it requires the generated
 * build/version/version.txt, which the module zip lacks, and `-overlay` may not touch files in GOMODCACHE.
 * So the build copies the verified module out of the module cache, writes that one file, and builds
 * cmd/ferretdb inside the copy with FerretDB's own go.mod and go.sum (the dependency versions of the release).
 */
export const ferretdb: Component = {
  name: 'ferretdb',
  version: FERRETDB_VERSION,
  description: 'FerretDB (MongoDB wire protocol) with the SQLite backend, no auth',
  kind: 'service',
  needs: ['go'],
  buildInputs: [`${MODULE_DIR}/go.mod`, `${MODULE_DIR}/go.sum`],

  async build(ctx) {
    const moduleDir = join(ctx.repoRoot, MODULE_DIR);
    const env = { GOWORK: 'off', GOFLAGS: '-buildvcs=false' };
    // checked against our go.sum, so a tampered or different zip is refused here
    const dl = await ctx.run('go', ['mod', 'download', '-json', FERRETDB_MODULE], { cwd: moduleDir, env });
    const { Dir: modDir, Version: modVersion } = JSON.parse(dl.stdout) as { Dir: string; Version: string };
    if (modVersion !== `v${FERRETDB_VERSION}`) {
      throw new Error(`${MODULE_DIR}/go.mod pins ${FERRETDB_MODULE} ${modVersion}, component says v${FERRETDB_VERSION}`);
    }
    const src = join(ctx.cacheDir, 'src');
    rmSync(src, { recursive: true, force: true });
    cpSync(modDir, src, { recursive: true });
    // the module cache is read-only; a writable copy can be written into and removed by a later rebuild
    await ctx.run('chmod', ['-R', 'u+w', src], { cwd: ctx.cacheDir });
    const versionDir = join(src, 'build', 'version');
    writeFileSync(join(versionDir, 'version.txt'), `${modVersion}\n`);
    writeFileSync(join(versionDir, 'package.txt'), 'aks-sandbox\n');
    mkdirSync(join(ctx.cacheDir, 'bin'), { recursive: true });
    ctx.log(`go build ${FERRETDB_MODULE}/cmd/ferretdb ${modVersion} (cold: a few minutes)`);
    await ctx.run(
      'go',
      ['build', '-trimpath', '-ldflags=-s -w', '-o', join(ctx.cacheDir, 'bin', 'ferretdb'), './cmd/ferretdb'],
      { cwd: src, env },
    );
    // the binary is all that is kept
    rmSync(src, { recursive: true, force: true });
  },

  async start(ctx) {
    const bin = join(ctx.cacheDir, 'bin', 'ferretdb');
    if (!existsSync(bin)) throw new Error(`${bin} is missing; the build cache is incomplete (delete ${ctx.cacheDir})`);
    const host = '127.0.0.1';
    const port = await ctx.freePort();
    const dataDir = join(ctx.runDir, 'data');
    const stateDir = join(ctx.runDir, 'state');
    mkdirSync(dataDir, { recursive: true });
    mkdirSync(stateDir, { recursive: true });
    const proc = await ctx.spawnService({
      name: 'ferretdb',
      command: bin,
      args: [
        '--handler=sqlite',
        // the trailing slash matters: FerretDB keeps one SQLite file per database in this directory
        `--sqlite-url=file:${dataDir}/`,
        `--listen-addr=${host}:${port}`,
        `--state-dir=${stateDir}`,
        // otherwise it would listen on 127.0.0.1:8088 for metrics/pprof and clash with a second sandbox
        '--debug-addr=-',
        // otherwise it would try to report to beacon.ferretdb.com after a delay; there is no network here
        '--telemetry=disable',
        '--log-level=warn',
      ],
    });
    const uri = `mongodb://${host}:${port}/`;
    await ctx.waitFor('FerretDB ping', () => pings(uri), { process: proc, timeoutMs: 30_000, intervalMs: 300 });
    return { uri, port: String(port), host, dataDir };
  },

  probe: (e) => pings(e.uri!, 5_000),
};
