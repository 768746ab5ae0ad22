/**
 * The sandbox runs real components (Kubernetes, FerretDB, Azurite, ...) on 127.0.0.1 for tests and for the
 * local main job. Each component lives in `components/<name>.ts` and is listed once in `registry.ts`.
 */
export const COMPONENT_NAMES = [
  'kubernetes',
  'ferretdb',
  'mongo-tools',
  'helm',
  'tofu',
  'azurite',
  'keyvault',
  'smtp',
] as const;

export type ComponentName = (typeof COMPONENT_NAMES)[number];

/** Everything a component learns about a running sandbox: URLs, ports, file paths. Strings only. */
export type Endpoints = Readonly<Record<string, string>>;

export interface SpawnOptions {
  /** Short label, unique within the component: used for the log file name and in `status`. */
  name: string;
  command: string;
  args: readonly string[];
  env?: Readonly<Record<string, string>>;
  cwd?: string;
}

export interface SpawnedProcess {
  pid: number;
  logFile: string;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

export interface ComponentContext {
  readonly name: ComponentName;
  readonly repoRoot: string;
  /** Persistent build output for this component and version (survives `down`; outside the run folder). */
  readonly cacheDir: string;
  /** Working folder for this start (data, certificates, config); removed by `down`. */
  readonly runDir: string;
  log(line: string): void;
  /** A TCP port on 127.0.0.1 that was free a moment ago. */
  freePort(): Promise<number>;
  /** Starts a long-running process in its own process group, output to a log file; `down` stops it. */
  spawnService(opts: SpawnOptions): Promise<SpawnedProcess>;
  /** Polls `check` until it returns true; on timeout or process death throws with the log tail. */
  waitFor(
    what: string,
    check: () => Promise<boolean>,
    opts?: { timeoutMs?: number; intervalMs?: number; process?: SpawnedProcess },
  ): Promise<void>;
  /** Runs a one-shot command (a build step); on failure throws with the command, exit code and output tail. */
  run(
    command: string,
    args: readonly string[],
    opts?: { cwd?: string; env?: Readonly<Record<string, string>>; timeoutMs?: number },
  ): Promise<RunResult>;
  /** Endpoints of a component listed in `requires`, already started. */
  endpoints(of: ComponentName): Endpoints;
}

export interface Component {
  readonly name: ComponentName;
  /** Shown by `status` and in the README; part of the build cache key. */
  readonly version: string;
  readonly description: string;
  /** 'tool' components only build binaries; 'service' components also run processes. */
  readonly kind: 'tool' | 'service';
  readonly requires?: readonly ComponentName[];
  /** Repo-relative files whose content goes into the build cache key (go.mod, go.sum, build scripts). */
  readonly buildInputs?: readonly string[];
  /** What the build needs on this machine (e.g. 'go', 'java'); checked first with a clear message. */
  readonly needs?: readonly ('go' | 'java' | 'mvn')[];
  /**
   * Produces artifacts under ctx.cacheDir. Called only when the cache for this key is not complete;
   * the harness marks it complete afterwards, so a half-finished build is redone.
   */
  build(ctx: ComponentContext): Promise<void>;
  /**
   * Starts the component (services) or just reports its binaries (tools), waits until healthy and returns
   * endpoints for tests, e.g. { uri }, { kubeconfig }, { helm: '/path/to/helm' }.
   */
  start(ctx: ComponentContext): Promise<Endpoints>;
  /**
   * Services: whether a running instance still answers (a quick request with its own short timeout). A live
   * process that stops answering is otherwise reused forever, and every test after it waits on it.
   */
  probe?(endpoints: Endpoints): Promise<boolean>;
}
