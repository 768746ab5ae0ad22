import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import type { Component } from '../types.js';

const MODULE_DIR = 'infrastructure/sandbox/go/helm';
const HELM_VERSION = '3.22.0';

/**
 * helm v3 (the major the project deploys Rocket.Chat with), built from helm.sh/helm/v3/cmd/helm. Binary only;
 * tests point it at the kubernetes component's kubeconfig. Endpoints: { helm, home } where `home` is a folder
 * for HELM_CACHE_HOME/HELM_CONFIG_HOME/HELM_DATA_HOME so nothing is written to the user's home.
 */
export const helm: Component = {
  name: 'helm',
  version: HELM_VERSION,
  description: 'helm v3 CLI, built from the Go module',
  kind: 'tool',
  needs: ['go'],
  buildInputs: [`${MODULE_DIR}/go.mod`, `${MODULE_DIR}/go.sum`],

  async build(ctx) {
    mkdirSync(join(ctx.cacheDir, 'bin'), { recursive: true });
    ctx.log(`go build helm.sh/helm/v3/cmd/helm v${HELM_VERSION}`);
    // helm's own Makefile sets these. Without them `helm version` says "v3.22" and `helm template`/`lint`
    // assume Kubernetes 1.20; 1.37 matches the k8s.io/client-go v0.37 that helm v3.22.0 is built with.
    const ldflags = [
      '-s',
      '-w',
      `-X helm.sh/helm/v3/internal/version.version=v${HELM_VERSION}`,
      '-X helm.sh/helm/v3/internal/version.gitTreeState=clean',
      ...['pkg/lint/rules', 'pkg/chartutil'].flatMap((p) => [
        `-X helm.sh/helm/v3/${p}.k8sVersionMajor=1`,
        `-X helm.sh/helm/v3/${p}.k8sVersionMinor=37`,
      ]),
    ].join(' ');
    await ctx.run(
      'go',
      ['build', '-trimpath', `-ldflags=${ldflags}`, '-o', join(ctx.cacheDir, 'bin', 'helm'), 'helm.sh/helm/v3/cmd/helm'],
      { cwd: join(ctx.repoRoot, MODULE_DIR), env: { GOWORK: 'off', GOFLAGS: '-buildvcs=false' } },
    );
  },

  async start(ctx) {
    const bin = join(ctx.cacheDir, 'bin', 'helm');
    if (!existsSync(bin)) throw new Error(`${bin} is missing; the build cache is incomplete (delete ${ctx.cacheDir})`);
    const home = join(ctx.runDir, 'home');
    mkdirSync(home, { recursive: true });
    const { stdout } = await execa(bin, ['version', '--short'], { env: helmEnv(home) });
    if (!stdout.startsWith(`v${HELM_VERSION}`)) throw new Error(`helm version says ${stdout.trim()}, expected v${HELM_VERSION}`);
    return { helm: bin, home };
  },
};

/** Environment that keeps helm's cache, config and plugin data inside `home`. */
export function helmEnv(home: string): Record<string, string> {
  return {
    HELM_CACHE_HOME: join(home, 'cache'),
    HELM_CONFIG_HOME: join(home, 'config'),
    HELM_DATA_HOME: join(home, 'data'),
  };
}
