import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import type { Component } from '../types.js';

const MODULE_DIR = 'infrastructure/sandbox/go/mongo-tools';
/**
 * mongo-tools release 100.11.0 (commit b8a566a7f38f). Its tags are not semver, so go.mod pins the pseudo-version
 * v0.0.0-20250131183507-b8a566a7f38f; it is the newest release the module proxy here serves (100.12.0 and later
 * are refused with 403).
 */
const RELEASE = '100.11.0';
const COMMIT = 'b8a566a7f38fdcd9ba62256bee1880c999f2d4d7';
const TOOLS = ['mongodump', 'mongorestore'] as const;

/** The real mongodump and mongorestore, built from github.com/mongodb/mongo-tools. Binaries only. */
export const mongoTools: Component = {
  name: 'mongo-tools',
  version: RELEASE,
  description: 'mongodump and mongorestore (MongoDB Database Tools), built from the Go module',
  kind: 'tool',
  needs: ['go'],
  buildInputs: [`${MODULE_DIR}/go.mod`, `${MODULE_DIR}/go.sum`],

  async build(ctx) {
    const bin = join(ctx.cacheDir, 'bin');
    mkdirSync(bin, { recursive: true });
    // without these `--version` says "built-without-version-string" (the release build sets them the same way)
    const ldflags = `-s -w -X main.VersionStr=${RELEASE} -X main.GitCommit=${COMMIT}`;
    for (const tool of TOOLS) {
      ctx.log(`go build ${tool} ${RELEASE}`);
      // the main packages are all called `main`, so each binary needs its own -o name
      await ctx.run(
        'go',
        ['build', '-trimpath', `-ldflags=${ldflags}`, '-o', join(bin, tool), `github.com/mongodb/mongo-tools/${tool}/main`],
        { cwd: join(ctx.repoRoot, MODULE_DIR), env: { GOWORK: 'off', GOFLAGS: '-buildvcs=false' } },
      );
    }
  },

  async start(ctx) {
    const out: Record<string, string> = {};
    for (const tool of TOOLS) {
      const path = join(ctx.cacheDir, 'bin', tool);
      if (!existsSync(path)) throw new Error(`${path} is missing; the build cache is incomplete (delete ${ctx.cacheDir})`);
      const { stdout } = await execa(path, ['--version']);
      if (!stdout.includes(RELEASE)) throw new Error(`${tool} --version says ${stdout.trim()}, expected ${RELEASE}`);
      out[tool] = path;
    }
    return out;
  },
};
