import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import type { Component } from '../types.js';

const MODULE_DIR = 'infrastructure/sandbox/go/tofu';
const TOFU_VERSION = '1.12.6';

/**
 * OpenTofu, built from github.com/opentofu/opentofu/cmd/tofu (our go.mod repeats OpenTofu's hcl replace line).
 * Providers cannot be downloaded here, so sandbox roots use only the built-in provider (terraform_data,
 * local-exec). Endpoints: { tofu, cliConfigFile, pluginCacheDir }; pass the last two as TF_CLI_CONFIG_FILE and
 * TF_PLUGIN_CACHE_DIR so `tofu init` never tries a registry.
 */
export const tofu: Component = {
  name: 'tofu',
  version: TOFU_VERSION,
  description: 'OpenTofu CLI, built from the Go module (built-in provider only, no registry access)',
  kind: 'tool',
  needs: ['go'],
  buildInputs: [`${MODULE_DIR}/go.mod`, `${MODULE_DIR}/go.sum`],

  async build(ctx) {
    mkdirSync(join(ctx.cacheDir, 'bin'), { recursive: true });
    ctx.log(`go build github.com/opentofu/opentofu/cmd/tofu v${TOFU_VERSION}`);
    // the release build sets dev=no; otherwise `tofu version` says 1.12.6-dev
    const ldflags = '-s -w -X github.com/opentofu/opentofu/version.dev=no';
    await ctx.run(
      'go',
      ['build', '-trimpath', `-ldflags=${ldflags}`, '-o', join(ctx.cacheDir, 'bin', 'tofu'), 'github.com/opentofu/opentofu/cmd/tofu'],
      { cwd: join(ctx.repoRoot, MODULE_DIR), env: { GOWORK: 'off', GOFLAGS: '-buildvcs=false' } },
    );
  },

  async start(ctx) {
    const bin = join(ctx.cacheDir, 'bin', 'tofu');
    if (!existsSync(bin)) throw new Error(`${bin} is missing; the build cache is incomplete (delete ${ctx.cacheDir})`);
    const pluginCacheDir = join(ctx.runDir, 'plugin-cache');
    const mirrorDir = join(ctx.runDir, 'providers');
    mkdirSync(pluginCacheDir, { recursive: true });
    mkdirSync(mirrorDir, { recursive: true });
    const cliConfigFile = join(ctx.runDir, 'tofurc');
    // Only an (empty) local mirror is a provider source: a root that asks for any non-built-in provider fails
    // at once with "provider not found in the local mirror" instead of waiting on a registry it cannot reach.
    writeFileSync(
      cliConfigFile,
      `provider_installation {\n  filesystem_mirror {\n    path    = ${JSON.stringify(mirrorDir)}\n    include = ["*/*/*"]\n  }\n}\n` +
        `plugin_cache_dir = ${JSON.stringify(pluginCacheDir)}\n`,
    );
    const { stdout } = await execa(bin, ['version', '-json'], { env: { TF_CLI_CONFIG_FILE: cliConfigFile } });
    const v = (JSON.parse(stdout) as { terraform_version: string }).terraform_version;
    if (v !== TOFU_VERSION) throw new Error(`tofu version says ${v}, expected ${TOFU_VERSION}`);
    return { tofu: bin, cliConfigFile, pluginCacheDir };
  },
};
