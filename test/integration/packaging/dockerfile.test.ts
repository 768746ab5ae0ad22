import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../sandbox/process.js';
import { repoRoot } from '../../sandbox/paths.js';

/**
 * No Docker engine runs here, so the image is checked the next best way: every file it copies exists, and its CMD
 * and HEALTHCHECK work from a production-only install (npm ci --omit=dev) of a fresh build, laid out as the
 * runtime stage lays it out.
 */
interface Stage {
  name: string;
  copies: { from?: string; sources: string[]; dest: string }[];
  env: Record<string, string>;
  cmd?: string[];
  healthcheck?: string[];
  runs: string[];
}

function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.replace(/\\\n\s*/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  for (const line of lines) {
    const [instr, ...restWords] = line.split(/\s+/);
    const rest = line.slice(instr!.length).trim();
    const stage = stages[stages.length - 1];
    switch (instr!.toUpperCase()) {
      case 'FROM':
        stages.push({ name: restWords[2] ?? restWords[0]!, copies: [], env: {}, runs: [] });
        break;
      case 'COPY': {
        const from = /--from=(\S+)/.exec(rest)?.[1];
        const words = rest.split(/\s+/).filter((w) => !w.startsWith('--'));
        stage!.copies.push({ ...(from ? { from } : {}), sources: words.slice(0, -1), dest: words[words.length - 1]! });
        break;
      }
      case 'ENV':
        for (const m of rest.matchAll(/(\w+)=(\S+)/g)) stage!.env[m[1]!] = m[2]!;
        break;
      case 'RUN':
        stage!.runs.push(rest);
        break;
      case 'CMD':
        stage!.cmd = JSON.parse(rest) as string[];
        break;
      case 'HEALTHCHECK':
        stage!.healthcheck = JSON.parse(rest.slice(rest.indexOf('CMD') + 3).trim()) as string[];
        break;
    }
  }
  return stages;
}

describe('Dockerfile', () => {
  const stages = parseDockerfile(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8'));
  const runtime = stages[stages.length - 1]!;
  let app: string;
  let bot: ResultPromise | undefined;

  beforeAll(async () => {
    app = mkdtempSync(join(tmpdir(), 'aks-image-'));
    // the build stage: compile
    await execa('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', join(app, 'dist')], { cwd: repoRoot });
    // the runtime stage, step by step
    for (const copy of runtime.copies.filter((c) => !c.from)) {
      for (const src of copy.sources) cpSync(join(repoRoot, src), join(app, copy.dest.replace(/^\.\/?/, ''), copy.sources.length > 1 || copy.dest.endsWith('/') ? src : ''), { recursive: true });
    }
    expect(runtime.runs[0]).toMatch(/npm ci --omit=dev/);
    await execa('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund'], { cwd: app, env: { NODE_ENV: 'production' } });
  }, 10 * 60_000);

  afterAll(async () => {
    bot?.kill('SIGTERM');
    await bot?.catch(() => undefined);
    rmSync(app, { recursive: true, force: true });
  });

  it('copies only files that exist in the repository', () => {
    for (const stage of stages) {
      for (const copy of stage.copies.filter((c) => !c.from)) {
        for (const src of copy.sources) expect(existsSync(join(repoRoot, src)), `${stage.name}: COPY ${src}`).toBe(true);
      }
    }
  });

  it('runs as a non-root user with a HEALTHCHECK', () => {
    const text = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
    expect(text).toMatch(/^USER node$/m);
    expect(runtime.healthcheck).toEqual(['node', 'dist/bot/healthcheck.js']);
  });

  it('installs no development dependency in the image', () => {
    expect(existsSync(join(app, 'node_modules/better-sqlite3'))).toBe(true);
    for (const dev of ['vitest', 'typescript', 'tsx', 'eslint', 'azurite']) expect(existsSync(join(app, 'node_modules', dev)), dev).toBe(false);
  });

  it('starts the bot with its CMD from the production install; the HEALTHCHECK passes', async () => {
    const port = await freePort();
    const env = { ...runtime.env, AKS_BOT__bot__listen__port: String(port), AKS_BOT__bot__listen__host: '127.0.0.1', AKS_BOT__bot__statePath: join(app, '.data/state.sqlite') };
    const [cmd, ...args] = runtime.cmd!;
    bot = execa(cmd!, args, { cwd: app, env, reject: false, all: true });
    let healthy = false;
    for (let i = 0; i < 100 && !healthy; i++) {
      await sleep(200);
      healthy = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
    }
    expect(healthy, 'bot did not answer /healthz').toBe(true);
    const [hc, ...hcArgs] = runtime.healthcheck!;
    const check = await execa(hc!, hcArgs, { cwd: app, env, reject: false });
    expect(check.exitCode).toBe(0);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(200);
  });
});
