import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Harness, resolveOrder } from '../../sandbox/harness.js';
import { isAlive } from '../../sandbox/process.js';
import { components } from '../../sandbox/registry.js';
import { COMPONENT_NAMES, type Component, type ComponentName } from '../../sandbox/types.js';

/** Small real components: a node process serving HTTP, so start, health, stop and failure are all real. */
function httpService(name: ComponentName, opts: { requires?: ComponentName[]; failHealth?: boolean; crash?: boolean } = {}): Component & { builds: number } {
  const c = {
    name,
    version: '1.0.0',
    description: `test service ${name}`,
    kind: 'service' as const,
    requires: opts.requires ?? [],
    builds: 0,
    async build() {
      c.builds += 1;
    },
    async start(ctx: Parameters<Component['start']>[0]) {
      const port = await ctx.freePort();
      const code = opts.crash
        ? 'console.error("fatal: cannot bind, port in use"); process.exit(3)'
        : `require("http").createServer((q,s)=>s.end("ok")).listen(${port},"127.0.0.1",()=>console.log("listening"))`;
      const proc = await ctx.spawnService({ name: 'server', command: process.execPath, args: ['-e', code] });
      await ctx.waitFor(
        'http',
        async () => (opts.failHealth ? false : (await fetch(`http://127.0.0.1:${port}/`)).ok),
        { timeoutMs: 3_000, process: proc },
      );
      for (const dep of opts.requires ?? []) ctx.endpoints(dep);
      return { url: `http://127.0.0.1:${port}/` };
    },
  };
  return c;
}

describe('sandbox registry', () => {
  it('lists every component name once, with a version and a file of its own', () => {
    expect(components.map((c) => c.name).sort()).toEqual([...COMPONENT_NAMES].sort());
    const files = readdirSync(new URL('../../sandbox/components/', import.meta.url)).map((f) => f.replace(/\.ts$/, ''));
    expect(files.sort()).toEqual([...COMPONENT_NAMES].sort());
    for (const c of components) expect(c.version).toMatch(/\d/);
    expect(() => resolveOrder([...COMPONENT_NAMES])).not.toThrow();
  });
});

describe('sandbox harness', () => {
  const harnesses: Harness[] = [];
  afterEach(async () => {
    for (const h of harnesses.splice(0)) {
      await h.down();
      rmSync(join(h.runRoot, '..'), { recursive: true, force: true });
    }
  });

  function make(list: Component[], owner = 'test'): Harness {
    const root = mkdtempSync(join(tmpdir(), 'sbx-'));
    const h = new Harness({ components: list, owner, log: () => undefined, env: { AKS_SANDBOX_DIR: join(root, 'run'), AKS_SANDBOX_CACHE: join(root, 'cache') } });
    harnesses.push(h);
    return h;
  }

  it('starts dependencies first, reuses running components, builds once, and stops everything', async () => {
    const a = httpService('ferretdb');
    const b = httpService('mongo-tools', { requires: ['ferretdb'] });
    const h = make([a, b]);
    const first = await h.up(['mongo-tools']);
    expect(Object.keys(first)).toEqual(['ferretdb', 'mongo-tools']);
    expect(await (await fetch(first.ferretdb.url!)).text()).toBe('ok');
    const pids = h.status().flatMap((s) => s.pids ?? []);
    expect(pids).toHaveLength(2);
    const again = await h.up(['mongo-tools']);
    expect(again).toEqual(first);
    expect(a.builds).toBe(1);
    const stopped = await h.down(['ferretdb']);
    expect(stopped).toEqual(['mongo-tools', 'ferretdb']);
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
    expect(h.status().every((s) => s.state === 'stopped')).toBe(true);
  });

  it('names the component and shows the log tail when a process dies before it is ready', async () => {
    const h = make([httpService('smtp', { crash: true })]);
    const err = await h.up(['smtp']).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/\[sandbox:smtp\] http: process exited before it was ready/);
    expect((err as Error).message).toContain('fatal: cannot bind, port in use');
    expect(h.status()[0]!.state).toBe('stopped');
  });

  it('stops what it started when the health check times out', async () => {
    const h = make([httpService('azurite', { failHealth: true })]);
    const err = (await h.up(['azurite']).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/\[sandbox:azurite\] http: not ready after 3 s/);
    expect(h.status()[0]!.state).toBe('stopped');
  });

  it('says which tool a component needs when it is missing', async () => {
    const c: Component = { ...httpService('tofu'), needs: ['go'] };
    const root = mkdtempSync(join(tmpdir(), 'sbx-'));
    const h = new Harness({ components: [c], log: () => undefined, env: { PATH: '/nonexistent', AKS_SANDBOX_DIR: join(root, 'run'), AKS_SANDBOX_CACHE: join(root, 'cache') } });
    harnesses.push(h);
    await expect(h.build(['tofu'])).rejects.toThrow(/\[sandbox:tofu\] needs Go 1\.26 .* "go" is not on PATH/);
  });

  it('restarts a service whose process is alive but silent (stopped with SIGSTOP), and says what state it was in', async () => {
    const probed: Component = { ...httpService('keyvault'), probe: async (e) => (await fetch(e.url!, { signal: AbortSignal.timeout(500) })).ok };
    const lines: string[] = [];
    const root = mkdtempSync(join(tmpdir(), 'sbx-'));
    const h = new Harness({ components: [probed], owner: 'vitest-2', log: (l) => lines.push(l), env: { AKS_SANDBOX_DIR: join(root, 'run'), AKS_SANDBOX_CACHE: join(root, 'cache') } });
    harnesses.push(h);
    const first = await h.up(['keyvault']);
    expect(await h.diagnose('vitest-2')).toEqual([]);
    const [pid] = h.status().flatMap((s) => s.pids ?? []);
    process.kill(pid!, 'SIGSTOP');
    try {
      const problems = await h.diagnose('vitest-2');
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^\[keyvault\] does not answer\.\n {2}server pid \d+ state T; last lines of .*server\.log:\n {4}.*\n {4}listening/);
      // the next suite asking for it gets a fresh, answering instance instead of the silent one
      const again = await h.up(['keyvault']);
      expect(again.keyvault.url).not.toBe(first.keyvault.url);
      expect(await (await fetch(again.keyvault.url!)).text()).toBe('ok');
      expect(lines.join('\n')).toMatch(/\[keyvault\] its processes are alive but it does not answer; restarting it\.\n {2}server pid \d+ state T/);
      expect(isAlive(pid!)).toBe(false);
    } finally {
      try {
        process.kill(pid!, 'SIGCONT');
      } catch {
        /* already stopped by the restart */
      }
    }
  });

  it('teardown of a test run stops only what that run started', async () => {
    const a = httpService('ferretdb');
    const b = httpService('smtp');
    const h = make([a, b], 'cli');
    await h.up(['ferretdb']);
    const env = { AKS_SANDBOX_DIR: h.runRoot, AKS_SANDBOX_CACHE: h.cacheRoot };
    const run = new Harness({ components: [a, b], owner: 'vitest-1', log: () => undefined, env });
    harnesses.push(run);
    await run.up(['ferretdb', 'smtp']);
    expect(await run.down([], { onlyOwner: 'vitest-1' })).toEqual(['smtp']);
    expect(h.status().find((s) => s.name === 'ferretdb')!.state).toBe('running');
  });

  it('redoes a build that did not finish', async () => {
    const c = httpService('helm');
    let fail = true;
    const flaky: Component = { ...c, build: async () => { if (fail) throw new Error('compiler crashed'); } };
    const h = make([flaky]);
    await expect(h.build(['helm'])).rejects.toThrow('compiler crashed');
    expect(h.isBuilt(flaky)).toBe(false);
    fail = false;
    await h.build(['helm']);
    expect(h.isBuilt(flaky)).toBe(true);
    expect(existsSync(join(h.cacheDir(flaky), '.complete'))).toBe(true);
  });
});
