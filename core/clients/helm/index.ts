// helm v3 over the one child-process chokepoint (core/exec). Teardown and recreate install and remove the
// Rocket.Chat chart with it. A standalone factory, not part of the per-environment bundle (core/clients/index.ts):
// the configuration names neither a helm binary nor a kubeconfig file for every environment (an inline
// kubeconfig secret has no path helm could read), so the caller that has both builds it.
import type { z } from 'zod';
import { AppError, ExecError } from '../../errors/app-error.js';
import { createExec, type Exec } from '../../exec/exec.js';
import type { Logger } from '../../log/logger.js';
import type { Redactor } from '../../log/redact.js';
import { parseToolJson, stderrTail } from '../tool-output.js';
import { listSchema, releaseSchema } from './schema.js';

export interface HelmDeps {
  /** The helm executable: a path, or a name found on PATH. */
  readonly binary: string;
  /** The cluster's kubeconfig file, handed to helm as KUBECONFIG. */
  readonly kubeconfigPath: string;
  /** Added to the inherited environment (HELM_CACHE_HOME, HELM_CONFIG_HOME, HELM_DATA_HOME, …). */
  readonly env?: Readonly<Record<string, string>>;
  readonly redactor: Redactor;
  readonly log: Logger;
  /** Instead of createExec (unit tests). */
  readonly exec?: Exec;
}

/** A release as the bot reads it. */
export interface HelmRelease {
  readonly name: string;
  readonly namespace: string;
  readonly revision: number;
  /** deployed, failed, pending-install, pending-upgrade, uninstalling, … */
  readonly status: string;
  /** <chart name>-<chart version>, as `helm list` prints it. */
  readonly chart: string;
  readonly appVersion: string;
}

export interface CallOptions {
  readonly signal?: AbortSignal;
}

export interface InstallOptions extends CallOptions {
  /** A values file on the bot host; applied before `values`. */
  readonly valuesFile?: string;
  /** Values handed to helm on stdin (never argv, where a process list shows them); they win over `valuesFile`. */
  readonly values?: Readonly<Record<string, unknown>>;
  /** Wait until the release's resources are ready (helm --wait). */
  readonly wait?: boolean;
  /** helm's own --timeout, in milliseconds (helm's default is 5 minutes). */
  readonly timeoutMs?: number;
  /** Render and validate without changing the cluster (helm --dry-run=client). */
  readonly dryRun?: boolean;
  /** Create the namespace when missing; default true. */
  readonly createNamespace?: boolean;
}

export interface UninstallOptions extends CallOptions {
  readonly wait?: boolean;
  readonly timeoutMs?: number;
}

export interface Helm {
  /** helm's version, e.g. v3.22.0. */
  version(opts?: CallOptions): Promise<string>;
  /** The releases of every status in `namespace`, or in every namespace when none is given. */
  listReleases(namespace?: string, opts?: CallOptions): Promise<HelmRelease[]>;
  /** The release, or undefined when there is none of that name in the namespace. */
  status(release: string, namespace: string, opts?: CallOptions): Promise<HelmRelease | undefined>;
  /** `helm upgrade --install`: installs the release or upgrades it to `chart` with these values. */
  install(release: string, chart: string, namespace: string, opts?: InstallOptions): Promise<HelmRelease>;
  /** The same call as install: upgrade --install is what makes both repeat-safe. */
  upgrade(release: string, chart: string, namespace: string, opts?: InstallOptions): Promise<HelmRelease>;
  /** Removes the release; a release that is already gone is not an error. */
  uninstall(release: string, namespace: string, opts?: UninstallOptions): Promise<void>;
}

function seconds(ms: number): string {
  return `${Math.max(1, Math.ceil(ms / 1000))}s`;
}

export function createHelm(deps: HelmDeps): Helm {
  const { binary, redactor } = deps;
  const exec = deps.exec ?? createExec({ redactor, log: deps.log });
  const env = { ...deps.env, KUBECONFIG: deps.kubeconfigPath };

  /** Runs helm; a failure of the tool itself becomes AKS_HELM_FAILED naming the release. */
  async function helm(action: string, target: { release: string; namespace: string }, args: string[], opts: CallOptions & { input?: string } = {}) {
    try {
      return await exec(binary, args, { env, ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.input !== undefined ? { input: opts.input } : {}) });
    } catch (err) {
      // not found, timed out or cancelled with the run: those codes already say what happened
      if (!(err instanceof ExecError) || err.code !== 'AKS_EXEC_FAILED' || opts.signal?.aborted) throw err;
      throw new AppError('AKS_HELM_FAILED', { action, ...target, exitCode: err.exitCode ?? 'none', stderr: stderrTail(err.stderr, redactor) }, { cause: err });
    }
  }

  const fromRelease = (r: z.output<typeof releaseSchema>): HelmRelease => ({
    name: r.name,
    namespace: r.namespace,
    revision: r.version,
    status: r.info.status,
    chart: `${r.chart.metadata.name}-${r.chart.metadata.version}`,
    appVersion: r.chart.metadata.appVersion ?? '',
  });

  const rows = (stdout: string, action: string): HelmRelease[] =>
    parseToolJson(listSchema, stdout, 'helm', action).map((row) => ({
      name: row.name,
      namespace: row.namespace,
      revision: row.revision,
      status: row.status,
      chart: row.chart,
      appVersion: row.app_version,
    }));

  async function install(release: string, chart: string, namespace: string, opts: InstallOptions = {}): Promise<HelmRelease> {
    const args = ['upgrade', '--install', release, chart, '--namespace', namespace, '--output', 'json'];
    if (opts.createNamespace !== false) args.push('--create-namespace');
    if (opts.valuesFile) args.push('--values', opts.valuesFile);
    // JSON is YAML; `-` makes helm read this values file from stdin
    if (opts.values) args.push('--values', '-');
    if (opts.wait) args.push('--wait');
    if (opts.timeoutMs !== undefined) args.push('--timeout', seconds(opts.timeoutMs));
    if (opts.dryRun) args.push('--dry-run=client');
    const r = await helm(opts.dryRun ? 'install (dry run)' : 'install', { release, namespace }, args, {
      ...opts,
      ...(opts.values ? { input: JSON.stringify(opts.values) } : {}),
    });
    return fromRelease(parseToolJson(releaseSchema, r.stdout, 'helm', 'upgrade --install'));
  }

  return {
    async version(opts = {}) {
      const r = await helm('version', { release: '(none)', namespace: '(none)' }, ['version', '--template', '{{.Version}}'], opts);
      const v = r.stdout.trim();
      if (!/^v\d+\.\d+\.\d+/.test(v)) throw new AppError('AKS_TOOL_OUTPUT_INVALID', { tool: 'helm', action: 'version', reason: `${JSON.stringify(v.slice(0, 40))} is not a version` });
      return v;
    },

    async listReleases(namespace, opts = {}) {
      const scope = namespace ? ['--namespace', namespace] : ['--all-namespaces'];
      const r = await helm('list', { release: '(all)', namespace: namespace ?? '(all)' }, ['list', '--all', '--max', '0', ...scope, '--output', 'json'], opts);
      return rows(r.stdout, 'list');
    },

    async status(release, namespace, opts = {}) {
      // `helm status -o json` leaves the chart out, and says "not found" only in its text: the list has both
      const filter = `^${release.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;
      const r = await helm('status', { release, namespace }, ['list', '--all', '--max', '0', '--namespace', namespace, '--filter', filter, '--output', 'json'], opts);
      return rows(r.stdout, 'status').find((row) => row.name === release);
    },

    install,
    upgrade: install,

    async uninstall(release, namespace, opts = {}) {
      const args = ['uninstall', release, '--namespace', namespace, '--ignore-not-found'];
      if (opts.wait) args.push('--wait');
      if (opts.timeoutMs !== undefined) args.push('--timeout', seconds(opts.timeoutMs));
      await helm('uninstall', { release, namespace }, args, opts);
    },
  };
}
