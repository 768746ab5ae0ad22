import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppError } from '../../errors/app-error.js';
import type { Exec } from '../../exec/exec.js';
import type { StreamExec, StreamingProcess } from '../../exec/stream.js';
import type { Redactor } from '../../log/redact.js';
import type { DumpOptions, MongoTools, RestoreOptions } from './tools.js';
import { dumpArgs, restoreArgs } from './args.js';

/** The chart's fallback when no password is set (DOMAIN §4). */
export const CHART_DEFAULT_PASSWORD = 'changeme';

/**
 * mongodump/mongorestore as local child processes. The connection string (with its password) goes into a
 * `--config` YAML file readable only by us, removed when the tool exits: never argv (process list) or a log.
 */
export function localMongoTools(deps: {
  streamExec: StreamExec;
  exec: Exec;
  redactor: Redactor;
  mongodump: string;
  mongorestore: string;
  uri: string;
}): MongoTools {
  deps.redactor.add(deps.uri);
  const password = passwordOf(deps.uri);
  if (password) deps.redactor.add(password);

  async function run(bin: string, args: string[], stdin: boolean, onLine?: (l: string) => void, signal?: AbortSignal): Promise<StreamingProcess> {
    const dir = await mkdtemp(join(tmpdir(), 'aks-mongo-'));
    const config = join(dir, 'tool.yaml');
    await writeFile(config, `uri: ${JSON.stringify(deps.uri)}\n`, { mode: 0o600 });
    const p = deps.streamExec(bin, [`--config=${config}`, ...args], {
      stdin: stdin ? 'pipe' : 'ignore',
      stdout: stdin ? 'ignore' : 'pipe',
      signal,
      onStderrLine: onLine,
    });
    const cleanup = () => rm(dir, { recursive: true, force: true });
    p.done.then(cleanup, cleanup);
    return p;
  }

  return {
    kind: 'local',
    async checkCredentials(environment) {
      if (password === CHART_DEFAULT_PASSWORD) throw new AppError('AKS_BACKUP_DEFAULT_PASSWORD', { environment });
    },
    dump(opts: DumpOptions) {
      return run(deps.mongodump, dumpArgs(opts), false, opts.onLine, opts.signal);
    },
    restore(opts: RestoreOptions) {
      return run(deps.mongorestore, restoreArgs(opts), true, opts.onLine, opts.signal);
    },
    async version(signal?: AbortSignal) {
      const r = await deps.exec(deps.mongodump, ['--version'], signal ? { signal } : {});
      return /version:\s*(\S+)/.exec(r.stdout)?.[1] ?? r.stdout.split('\n')[0]?.trim() ?? 'unknown';
    },
  };
}

function passwordOf(uri: string): string | undefined {
  try {
    const p = new URL(uri).password;
    return p ? decodeURIComponent(p) : undefined;
  } catch {
    return undefined;
  }
}
