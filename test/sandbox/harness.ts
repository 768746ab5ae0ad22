import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import lockfile from 'proper-lockfile';
import { SandboxError } from './errors.js';
import { cacheRoot, repoRoot, runRoot } from './paths.js';
import { freePort, isAlive, spawnDetached, stopGroup, tail } from './process.js';
import { components } from './registry.js';
import type { Component, ComponentContext, ComponentName, Endpoints, SpawnedProcess } from './types.js';

interface ProcessRecord extends SpawnedProcess {
  name: string;
}

interface ComponentState {
  version: string;
  owner: string;
  startedAt: string;
  startMs: number;
  endpoints: Endpoints;
  processes: ProcessRecord[];
}

type State = Partial<Record<ComponentName, ComponentState>>;

export interface HarnessOptions {
  env?: NodeJS.ProcessEnv;
  /** Who started a component: a vitest run id, or 'cli'. Teardown stops only what its owner started. */
  owner?: string;
  log?: (line: string) => void;
  /** The components to drive; the registry's by default (tests of the harness pass their own). */
  components?: readonly Component[];
}

const defaultLog = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

export function getComponent(name: string, list: readonly Component[] = components): Component {
  const c = list.find((x) => x.name === name);
  if (!c) {
    throw new SandboxError('sandbox', `unknown component "${name}"; known: ${list.map((x) => x.name).join(', ')}`);
  }
  return c;
}

/** Dependencies first, each once. */
export function resolveOrder(names: readonly string[], list: readonly Component[] = components): Component[] {
  const out: Component[] = [];
  const visit = (name: string, path: string[]): void => {
    if (out.some((c) => c.name === name)) return;
    if (path.includes(name)) throw new SandboxError('sandbox', `dependency cycle: ${[...path, name].join(' -> ')}`);
    const c = getComponent(name, list);
    for (const dep of c.requires ?? []) visit(dep, [...path, name]);
    out.push(c);
  };
  for (const n of names) visit(n, []);
  return out;
}

export class Harness {
  private readonly env: NodeJS.ProcessEnv;
  private readonly owner: string;
  private readonly log: (line: string) => void;
  private readonly list: readonly Component[];
  readonly runRoot: string;
  readonly cacheRoot: string;

  constructor(opts: HarnessOptions = {}) {
    this.env = opts.env ?? process.env;
    this.owner = opts.owner ?? 'cli';
    this.log = opts.log ?? defaultLog;
    this.list = opts.components ?? components;
    this.runRoot = runRoot(this.env);
    this.cacheRoot = cacheRoot(this.env);
  }

  private get statePath(): string {
    return join(this.runRoot, 'state.json');
  }

  private readState(): State {
    if (!existsSync(this.statePath)) return {};
    return JSON.parse(readFileSync(this.statePath, 'utf8')) as State;
  }

  private writeState(state: State): void {
    const tmp = `${this.statePath}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
    // rename is atomic: a reader never sees half a state file
    renameSync(tmp, this.statePath);
  }

  /** Serialises start/stop across processes (vitest workers, a CLI in another shell). */
  private async withLock<T>(fn: () => Promise<T>): Promise<T> {
    mkdirSync(this.runRoot, { recursive: true });
    const release = await lockfile.lock(this.runRoot, {
      lockfilePath: join(this.runRoot, 'state.lock'),
      stale: 30_000,
      update: 5_000,
      retries: { retries: 100_000, minTimeout: 200, maxTimeout: 1_000, factor: 1.2 },
    });
    try {
      return await fn();
    } finally {
      await release();
    }
  }

  cacheKey(c: Component): string {
    const h = createHash('sha256').update(c.name).update('\0').update(c.version);
    for (const rel of c.buildInputs ?? []) {
      const p = join(repoRoot, rel);
      if (!existsSync(p)) throw new SandboxError(c.name, `build input ${rel} is missing`);
      h.update('\0').update(rel).update('\0').update(readFileSync(p));
    }
    return `${c.name}-${c.version}-${h.digest('hex').slice(0, 12)}`;
  }

  cacheDir(c: Component): string {
    return join(this.cacheRoot, this.cacheKey(c));
  }

  isBuilt(c: Component): boolean {
    return existsSync(join(this.cacheDir(c), '.complete'));
  }

  private async checkNeeds(c: Component): Promise<void> {
    for (const tool of c.needs ?? []) {
      const args = tool === 'java' ? ['-version'] : tool === 'go' ? ['version'] : ['--version'];
      try {
        await execa(tool, args, { env: this.env });
      } catch {
        const how: Record<string, string> = {
          go: 'Go 1.26 (the Go-built sandbox parts — Kubernetes, FerretDB, mongo tools, helm, OpenTofu — are compiled from Go modules)',
          java: 'Java 17 (lowkey-vault is a Java application)',
          mvn: 'Maven (lowkey-vault is fetched from Maven Central with mvn)',
        };
        throw new SandboxError(c.name, `needs ${how[tool] ?? tool}, but "${tool}" is not on PATH of this machine`);
      }
    }
  }

  private context(c: Component, state: State, spawned: ProcessRecord[], phase: 'build' | 'start'): ComponentContext {
    const runDir = join(this.runRoot, 'run', c.name);
    const logDir = join(this.runRoot, 'logs');
    mkdirSync(logDir, { recursive: true });
    const log = (line: string): void => this.log(`[${c.name}] ${line}`);
    return {
      name: c.name,
      repoRoot,
      cacheDir: this.cacheDir(c),
      runDir,
      log,
      freePort,
      spawnService: async (opts) => {
        mkdirSync(runDir, { recursive: true });
        const logFile = join(logDir, `${c.name}-${opts.name}.log`);
        writeFileSync(logFile, `# ${opts.command} ${opts.args.join(' ')}\n`);
        let pid: number;
        try {
          pid = spawnDetached(opts.command, opts.args, { logFile, env: opts.env, cwd: opts.cwd ?? runDir });
        } catch (err) {
          throw new SandboxError(c.name, `could not start ${opts.name}: ${(err as Error).message}`);
        }
        const rec = { name: opts.name, pid, logFile };
        spawned.push(rec);
        return rec;
      },
      waitFor: async (what, check, opts = {}) => {
        const timeoutMs = opts.timeoutMs ?? 60_000;
        const deadline = Date.now() + timeoutMs;
        let lastError = '';
        for (;;) {
          if (opts.process && !isAlive(opts.process.pid)) {
            throw new SandboxError(c.name, `${what}: process exited before it was ready`, tail(opts.process.logFile));
          }
          try {
            if (await check()) return;
          } catch (err) {
            lastError = (err as Error).message;
          }
          if (Date.now() > deadline) {
            const evidence = opts.process ? tail(opts.process.logFile) : undefined;
            throw new SandboxError(
              c.name,
              `${what}: not ready after ${Math.round(timeoutMs / 1000)} s${lastError ? ` (last error: ${lastError})` : ''}`,
              evidence,
            );
          }
          await sleep(opts.intervalMs ?? 250);
        }
      },
      run: async (command, args, opts = {}) => {
        const buildLog = `${this.cacheDir(c)}.log`;
        appendFileSync(buildLog, `$ ${command} ${args.join(' ')}\n`);
        const r = await execa(command, args, {
          // a build has no run folder; it works in its cache folder
          cwd: opts.cwd ?? (phase === 'build' ? this.cacheDir(c) : runDir),
          env: { ...this.env, ...opts.env },
          timeout: opts.timeoutMs,
          all: true,
          reject: false,
        });
        appendFileSync(buildLog, `${r.all ?? ''}\n`);
        if (r.failed) {
          const why = r.timedOut
            ? `timed out after ${opts.timeoutMs} ms`
            : r.exitCode !== undefined
              ? `exit code ${r.exitCode}`
              : (r.signal ?? r.shortMessage ?? 'could not start');
          throw new SandboxError(c.name, `${command} ${args.join(' ')} failed (${why})`, tailText(r.all ?? '', 40));
        }
        return { stdout: r.stdout, stderr: r.stderr };
      },
      endpoints: (of) => {
        const s = state[of];
        if (!s) throw new SandboxError(c.name, `requires ${of}, which is not started`);
        return s.endpoints;
      },
    };
  }

  /** Builds what is missing from the cache; prints progress and how long each build took. */
  async build(names: readonly string[]): Promise<void> {
    for (const c of resolveOrder(names, this.list)) await this.buildOne(c);
  }

  private async buildOne(c: Component): Promise<void> {
    if (this.isBuilt(c)) return;
    await this.checkNeeds(c);
    const dir = this.cacheDir(c);
    mkdirSync(this.cacheRoot, { recursive: true });
    // One builder per cache key, even across processes; the others wait and then find it complete.
    const release = await lockfile.lock(this.cacheRoot, {
      lockfilePath: `${dir}.lock`,
      stale: 60_000,
      update: 10_000,
      retries: { retries: 100_000, minTimeout: 500, maxTimeout: 2_000, factor: 1.2 },
    });
    try {
      if (this.isBuilt(c)) return;
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      writeFileSync(`${dir}.log`, '');
      const t0 = Date.now();
      this.log(`[${c.name}] building ${c.version} into ${dir} (log: ${dir}.log)`);
      await c.build(this.context(c, this.readState(), [], 'build'));
      const secs = ((Date.now() - t0) / 1000).toFixed(1);
      writeFileSync(join(dir, '.complete'), JSON.stringify({ builtAt: new Date().toISOString(), seconds: Number(secs) }));
      this.log(`[${c.name}] built in ${secs} s`);
    } finally {
      await release();
    }
  }

  private running(s: ComponentState | undefined): boolean {
    return !!s && s.processes.every((p) => isAlive(p.pid));
  }

  /** Starts the named components and what they require; components already running are reused. */
  async up(names: readonly string[]): Promise<Record<ComponentName, Endpoints>> {
    const order = resolveOrder(names, this.list);
    for (const c of order) await this.buildOne(c);
    return this.withLock(async () => {
      const state = this.readState();
      for (const c of order) {
        const existing = state[c.name];
        if (existing && existing.version === c.version && this.running(existing)) {
          if (await this.answers(c, existing)) continue;
          this.log(`[${c.name}] its processes are alive but it does not answer; restarting it.\n${this.describe(existing)}`);
        }
        if (existing) await this.stopOne(c.name, existing);
        delete state[c.name];
        const spawned: ProcessRecord[] = [];
        const ctx = this.context(c, state, spawned, 'start');
        rmSync(ctx.runDir, { recursive: true, force: true });
        mkdirSync(ctx.runDir, { recursive: true });
        const t0 = Date.now();
        try {
          const endpoints = await c.start(ctx);
          state[c.name] = {
            version: c.version,
            owner: this.owner,
            startedAt: new Date().toISOString(),
            startMs: Date.now() - t0,
            endpoints,
            processes: spawned,
          };
          this.writeState(state);
          if (c.kind === 'service') this.log(`[${c.name}] ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        } catch (err) {
          for (const p of spawned.reverse()) await stopGroup(p.pid, 3_000);
          throw err instanceof SandboxError ? err : new SandboxError(c.name, `start failed: ${(err as Error).message}`);
        }
      }
      const out = {} as Record<ComponentName, Endpoints>;
      for (const c of order) out[c.name] = state[c.name]!.endpoints;
      return out;
    });
  }

  /** A service with a probe must answer one of three tries a second apart; one without a probe is trusted. */
  private async answers(c: Component, s: ComponentState): Promise<boolean> {
    if (!c.probe) return true;
    for (let i = 0; i < 3; i++) {
      if (i > 0) await sleep(1_000);
      try {
        if (await c.probe(s.endpoints)) return true;
      } catch {
        /* not answering (yet) */
      }
    }
    return false;
  }

  /** Each process's scheduler state (R running, S sleeping, T stopped, Z zombie, D disk wait) and its log's tail. */
  private describe(s: ComponentState): string {
    return s.processes
      .map((p) => {
        let state = 'gone';
        try {
          // /proc/<pid>/stat: "pid (comm) S ..." — the state letter follows the parenthesised command name
          state = readFileSync(`/proc/${p.pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[0] ?? '?';
        } catch {
          /* not on Linux, or exited */
        }
        return `  ${p.name} pid ${p.pid} state ${state}; last lines of ${p.logFile}:\n${tail(p.logFile, 15).replace(/^/gm, '    ')}`;
      })
      .join('\n');
  }

  /**
   * For the end of a test run: the components this owner started that no longer answer, each with its process
   * states and log tail. A run whose tests timed out against a silent service then says which one and why.
   */
  async diagnose(owner: string): Promise<string[]> {
    const state = this.readState();
    const out: string[] = [];
    for (const c of this.list) {
      const s = state[c.name];
      if (!s || s.owner !== owner || !c.probe) continue;
      if (!this.running(s)) out.push(`[${c.name}] a process of it has exited.\n${this.describe(s)}`);
      else if (!(await this.answers(c, s))) out.push(`[${c.name}] does not answer.\n${this.describe(s)}`);
    }
    return out;
  }

  private async stopOne(name: ComponentName, s: ComponentState): Promise<void> {
    for (const p of [...s.processes].reverse()) await stopGroup(p.pid);
    rmSync(join(this.runRoot, 'run', name), { recursive: true, force: true });
  }

  /**
   * Stops the named components (all when none are named) and whatever requires them.
   * With `onlyOwner`, stops just those this owner started (a test run leaves a developer's sandbox alone).
   */
  async down(names: readonly string[] = [], opts: { onlyOwner?: string } = {}): Promise<ComponentName[]> {
    return this.withLock(async () => {
      const state = this.readState();
      const started = Object.keys(state) as ComponentName[];
      let targets = names.length ? resolveDependents(names.map((n) => getComponent(n, this.list).name), started, this.list) : started;
      if (opts.onlyOwner) targets = targets.filter((n) => state[n]?.owner === opts.onlyOwner);
      // stop dependents before what they depend on
      const ordered = resolveOrder(started, this.list)
        .map((c) => c.name)
        .filter((n) => targets.includes(n))
        .reverse();
      for (const n of ordered) {
        const s = state[n];
        if (s) await this.stopOne(n, s);
        delete state[n];
        this.writeState(state);
      }
      return ordered;
    });
  }

  status(): { name: ComponentName; version: string; built: boolean; state: string; endpoints?: Endpoints; owner?: string; pids?: number[] }[] {
    const state = this.readState();
    return this.list.map((c) => {
      const s = state[c.name];
      const built = this.isBuilt(c);
      if (!s) return { name: c.name, version: c.version, built, state: 'stopped' };
      return {
        name: c.name,
        version: c.version,
        built,
        state: this.running(s) ? (c.kind === 'tool' ? 'available' : 'running') : 'dead',
        endpoints: s.endpoints,
        owner: s.owner,
        pids: s.processes.map((p) => p.pid),
      };
    });
  }
}

function resolveDependents(names: ComponentName[], started: ComponentName[], list: readonly Component[]): ComponentName[] {
  const out = new Set(names);
  let grew = true;
  while (grew) {
    grew = false;
    for (const n of started) {
      if (out.has(n)) continue;
      if ((getComponent(n, list).requires ?? []).some((r) => out.has(r))) {
        out.add(n);
        grew = true;
      }
    }
  }
  return [...out];
}

function tailText(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
