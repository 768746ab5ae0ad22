import { PassThrough, Writable } from 'node:stream';
import type { CoreV1Api, Exec, V1Status } from '@kubernetes/client-node';
import { AppError, ExecError } from '../../errors/app-error.js';
import type { StreamExit, StreamingProcess } from '../../exec/stream.js';
import type { Logger } from '../../log/logger.js';
import type { Redactor } from '../../log/redact.js';
import { CHART_DEFAULT_PASSWORD } from './local-tools.js';
import { findMongoPod, readRootPassword, type MongoRelease } from './pod-target.js';
import { RESTORE_INCOMPLETE_MARKER, type DumpOptions, type MongoTools, type RestoreMarker, type RestoreOptions } from './tools.js';
import { dumpArgs, restoreArgs } from './args.js';

/**
 * How the password reaches the tool, and why this way:
 *
 * - Not argv (`--password=…`, or a URI with the password): visible in `ps` inside the pod, and the exec request's
 *   `command` query parameters are written to the apiserver audit log.
 * - Not an environment variable of the exec: the exec API has none, and `env X=… mongodump` is argv again.
 * - Not `--config=/dev/stdin`: mongorestore needs stdin for the archive.
 *
 * So the FIRST LINE of the exec's stdin carries the tool's YAML config (`uri: "<json-quoted URI>"`; a JSON string
 * is a valid YAML double-quoted scalar and has no raw newline). A fixed POSIX `sh` script reads that line with the
 * `read` builtin (which reads a pipe byte by byte, so nothing after the newline is consumed) and hands it to the
 * tool as `--config=/dev/fd/3` through a here-document: the value lives in the shell's memory and a pipe (or a
 * here-doc temp file the shell removes at once), never in argv, an environment, the audit log or a file we leave.
 * Everything after the first line is the archive for mongorestore. The script itself holds no secret.
 */
export const POD_SCRIPT = 'IFS= read -r cfg || exit 97\nexec "$@" --config=/dev/fd/3 3<<EOF\n$cfg\nEOF\n';

/**
 * mongosh has no --config, so its `--nodb` script reads the same first stdin line itself (one byte at a time, so
 * it never waits for an end of stdin that the v4 protocol cannot send), connects as `conn`, then runs `body`
 * against the database `target`. The script holds no secret — only the database name, which the exec URL may show.
 */
function mongoshScript(database: string, body: readonly string[]): string {
  if (!/^[A-Za-z0-9_-]{1,63}$/.test(database)) throw new AppError('AKS_INTERNAL', { reference: 'mongosh-database-name' });
  return [
    "const fs = require('fs');",
    'const one = Buffer.alloc(1); const bytes = [];',
    'while (fs.readSync(0, one, 0, 1, null) === 1 && one[0] !== 10) bytes.push(one[0]);',
    "const line = Buffer.from(bytes).toString('utf8');",
    "if (!line.startsWith('uri: ')) throw new Error('no connection settings on stdin');",
    'const conn = new Mongo(JSON.parse(line.slice(5)));',
    `const target = conn.getDB(${JSON.stringify(database)});`,
    ...body,
  ].join('\n');
}

/** Drops the database and prints "dropped". */
export function dropDatabaseScript(database: string): string {
  return mongoshScript(database, [
    'const r = target.dropDatabase();',
    "if (!r || r.ok !== 1) throw new Error('dropDatabase failed: ' + JSON.stringify(r));",
    "print('dropped');",
  ]);
}

/**
 * Prints "collections: N": the database's collections that hold data (views and system.* left out), so a restore
 * can tell an empty target without reading a document.
 */
export function countCollectionsScript(database: string): string {
  return mongoshScript(database, [
    'const infos = target.getCollectionInfos({}, { nameOnly: false });',
    // the same rule as isDataCollection (mongo/archive.ts): plain collections, not system.*
    "const data = infos.filter((c) => (c.type === undefined || c.type === '' || c.type === 'collection') && !c.name.startsWith('system.'));",
    "print('collections: ' + data.length);",
  ]);
}

/**
 * After a failed restore into an empty database (ContentInspector.dropRestored): lists the data collections again;
 * drops them when all are in `restored`, else drops nothing and upserts `marker` into the marker collection. Prints
 * one line "undo: {dropped, others}" as JSON.
 */
export function dropRestoredScript(database: string, restored: readonly string[], marker: RestoreMarker): string {
  return mongoshScript(database, [
    `const restored = ${JSON.stringify(restored)};`,
    'const infos = target.getCollectionInfos({}, { nameOnly: false });',
    "const present = infos.filter((c) => (c.type === undefined || c.type === '' || c.type === 'collection') && !c.name.startsWith('system.')).map((c) => c.name);",
    'const others = present.filter((n) => !restored.includes(n));',
    'if (others.length > 0) {',
    `  const marker = ${JSON.stringify(marker)};`,
    `  target.getCollection(${JSON.stringify(RESTORE_INCOMPLETE_MARKER)}).updateOne({ _id: marker.backupId }, { $set: { ...marker, others } }, { upsert: true });`,
    '} else {',
    "  for (const n of present) if (!target.getCollection(n).drop()) throw new Error('drop failed: ' + n);",
    '}',
    "print('undo: ' + JSON.stringify({ dropped: others.length > 0 ? [] : present, others }));",
  ]);
}

/** The pod executor also drops databases (the drill's scratch database) and lists them, with mongosh in the pod. */
export interface PodMongoTools extends MongoTools {
  dropDatabase(database: string): Promise<void>;
  /** True when the database has no data collection. */
  isEmpty(database: string): Promise<boolean>;
  dropRestored(database: string, restored: readonly string[], marker: RestoreMarker): Promise<{ dropped: string[]; others: string[] }>;
}

/** v5 is the first exec subprotocol that can tell the process "stdin is finished"; restore needs it. */
const CLOSE_STREAM_PROTOCOL = 'v5.channel.k8s.io';
const STDERR_KEPT = 4_000;
const STDIN = 0;
const CLOSE = 255;

/** The part of the `ws` WebSocket the executor uses (what `Exec.exec` resolves to). */
interface ExecSocket {
  readonly protocol: string;
  readonly readyState: number;
  send(data: Buffer, cb?: (err?: Error) => void): void;
  close(): void;
  pause?(): void;
  resume?(): void;
  on(event: 'close', listener: () => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

export interface PodExecToolsDeps {
  /** `new Exec(kubeConfig)`; tests point the KubeConfig at a fake exec endpoint. */
  readonly exec: Pick<Exec, 'exec'>;
  readonly core: CoreV1Api;
  readonly redactor: Redactor;
  readonly log: Logger;
  readonly target: MongoRelease;
  /** The container of the MongoDB pod that has mongodump/mongorestore (the Bitnami image: `mongodb`). */
  readonly container: string;
  /** host:port as seen from inside the pod. */
  readonly host: string;
  /** URI query options, e.g. `authSource=admin`. */
  readonly uriOptions: string;
  /** The user whose password is `mongodb-root-password`. */
  readonly username?: string;
}

/**
 * mongodump/mongorestore inside the MongoDB pod through the Kubernetes exec API: the archive comes back on the
 * stdout channel (dump) or goes in on stdin (restore), stderr is redacted, and the exit code is read from the
 * status channel. The image ships the tools, so nothing is installed and the data never crosses the network twice.
 */
export function podExecMongoTools(deps: PodExecToolsDeps): PodMongoTools {
  const { redactor, log, target } = deps;
  let password: Promise<string> | undefined;
  const rootPassword = () => (password ??= readRootPassword(deps.core, target, redactor).catch((err: unknown) => {
    password = undefined;
    throw err;
  }));

  async function configLine(): Promise<string> {
    const pw = await rootPassword();
    if (pw === CHART_DEFAULT_PASSWORD) throw new AppError('AKS_BACKUP_DEFAULT_PASSWORD', { environment: target.environment });
    const uri = `mongodb://${encodeURIComponent(deps.username ?? 'root')}:${encodeURIComponent(pw)}@${deps.host}/${deps.uriOptions ? `?${deps.uriOptions}` : ''}`;
    redactor.add(uri);
    const line = `uri: ${JSON.stringify(uri)}\n`;
    redactor.add(line.trim());
    return line;
  }

  async function run(tool: string, args: string[], feed: boolean, onLine?: (l: string) => void, signal?: AbortSignal): Promise<StreamingProcess> {
    return execWithConfig(['sh', '-c', POD_SCRIPT, 'aks-mongo', tool, ...args], [tool, ...args].join(' '), feed, onLine, signal);
  }

  /** Starts `command` in the pod and sends the config line (the URI with the password) as the first stdin line. */
  async function execWithConfig(command: string[], what: string, feed: boolean, onLine?: (l: string) => void, signal?: AbortSignal): Promise<StreamingProcess> {
    const line = await configLine();
    const pod = await findMongoPod(deps.core, target);
    const shown = `${what} (in pod ${target.namespace}/${pod})`;
    const started = Date.now();

    let conn: ExecSocket | undefined;
    let status: V1Status | undefined;
    let tail = '';
    let partial = '';
    const stderr = new Writable({
      write(chunk: Buffer, _enc, cb) {
        const text = chunk.toString('utf8');
        tail = (tail + text).slice(-STDERR_KEPT * 2);
        if (onLine) {
          const lines = (partial + text).split('\n');
          partial = lines.pop() ?? '';
          for (const l of lines) if (l.trim()) onLine(redactor.text(l));
        }
        cb();
      },
    });
    // the client writes stdout frames without looking at backpressure; pausing the socket keeps memory bounded
    const stdout = feed ? null : new PassThrough();
    // frames already read from the socket still arrive after pause(): one drain listener per pause, not per frame
    let paused = false;
    const sink = stdout
      ? new Writable({
          write(chunk: Buffer, _enc, cb) {
            if (!stdout.write(chunk) && !paused && conn?.pause && conn.resume) {
              const c = conn;
              paused = true;
              c.pause!();
              stdout.once('drain', () => {
                paused = false;
                c.resume!();
              });
            }
            cb();
          },
          final(cb) {
            stdout.end();
            cb();
          },
        })
      : null;
    // Exec sends what this emits without backpressure; it never emits: stdin frames are sent below, paced by the
    // socket's send callback. Passing it still makes the request ask for stdin.
    const idleStdin = new PassThrough();

    let settle: { resolve: (e: StreamExit) => void; reject: (e: unknown) => void } | undefined;
    const done = new Promise<StreamExit>((resolve, reject) => (settle = { resolve, reject }));
    done.catch(() => undefined);
    const fail = (exitCode: number, extra = '') => {
      const text = redactor.text(tail + extra).slice(-STDERR_KEPT);
      log.debug({ command: shown, exitCode, ms: Date.now() - started }, 'pod exec');
      settle?.reject(new ExecError('AKS_EXEC_FAILED', { command: shown, exitCode, stderr: text }));
    };
    const finish = () => {
      if (!status) return fail(-1, '\nthe exec connection closed before the exit status arrived');
      if (status.status === 'Success') {
        log.debug({ command: shown, exitCode: 0, ms: Date.now() - started }, 'pod exec');
        return settle?.resolve({ exitCode: 0, stderr: redactor.text(tail).slice(-STDERR_KEPT) });
      }
      const code = Number(status.details?.causes?.find((c) => c.reason === 'ExitCode')?.message);
      return fail(Number.isInteger(code) ? code : -1, status.message ? `\n${status.message}` : '');
    };

    try {
      conn = (await deps.exec.exec(target.namespace, pod, deps.container, command, sink, stderr, idleStdin, false, (s) => {
        status = s;
      })) as unknown as ExecSocket;
    } catch (err) {
      throw new ExecError('AKS_EXEC_FAILED', { command: shown, exitCode: -1, stderr: redactor.text(describe(err)) }, { cause: err });
    }
    const socket = conn;
    socket.on('error', (err) => {
      tail += `\n${describe(err)}`;
    });
    socket.on('close', () => {
      // the status frame ends stdout; let its last bytes flush before settling
      setImmediate(finish);
    });
    // Kubernetes has no call that signals an exec'd process: closing the connection is the abort. The runtime then
    // closes the tool's stdin and stdout, so mongorestore reads an early end and mongodump fails its next write
    // (docs/child-processes.md).
    const abort = () => socket.close();
    if (signal?.aborted) abort();
    else signal?.addEventListener('abort', abort, { once: true });
    void done.finally(() => signal?.removeEventListener('abort', abort)).catch(() => undefined);

    const send = (channel: number, data: Buffer) =>
      new Promise<void>((resolve, reject) =>
        socket.send(Buffer.concat([Buffer.from([channel]), data]), (err) => (err ? reject(err) : resolve())),
      );
    const closeStdin = async () => {
      if (socket.protocol === CLOSE_STREAM_PROTOCOL) await send(CLOSE, Buffer.from([STDIN]));
    };
    await send(STDIN, Buffer.from(line, 'utf8'));

    let stdin: Writable | null = null;
    if (feed) {
      if (socket.protocol !== CLOSE_STREAM_PROTOCOL) {
        socket.close();
        throw new AppError('AKS_NOT_AVAILABLE', {
          command: 'restore',
          reason: `the cluster answered exec with ${socket.protocol || 'an old protocol'}, which cannot signal the end of stdin; restore through the pod needs ${CLOSE_STREAM_PROTOCOL} (Kubernetes 1.30+)`,
        });
      }
      stdin = new Writable({
        // one frame at a time, acknowledged by the socket: memory stays at one chunk however fast the source is
        write: (chunk: Buffer, _enc, cb) => void send(STDIN, chunk).then(() => cb(), cb),
        final: (cb) => void closeStdin().then(() => cb(), cb),
        destroy: (err, cb) => {
          if (err) socket.close();
          cb(err);
        },
      });
    } else {
      await closeStdin();
    }
    return { stdout, stdin, pid: undefined, done, kill: () => socket.close() };
  }

  return {
    kind: 'kubernetes',
    async checkCredentials(environment) {
      if ((await rootPassword()) === CHART_DEFAULT_PASSWORD) throw new AppError('AKS_BACKUP_DEFAULT_PASSWORD', { environment });
    },
    dump(opts: DumpOptions) {
      return run('mongodump', dumpArgs(opts), false, opts.onLine, opts.signal);
    },
    restore(opts: RestoreOptions) {
      return run('mongorestore', restoreArgs(opts), true, opts.onLine, opts.signal);
    },
    async dropDatabase(database) {
      const p = await execWithConfig(['mongosh', '--nodb', '--quiet', '--norc', '--eval', dropDatabaseScript(database)], `mongosh dropDatabase ${database}`, false);
      // nothing to read on stdout but the drop's confirmation; draining it keeps the socket flowing
      p.stdout?.resume();
      await p.done;
    },
    async isEmpty(database) {
      const p = await execWithConfig(['mongosh', '--nodb', '--quiet', '--norc', '--eval', countCollectionsScript(database)], `mongosh list collections of ${database}`, false);
      let out = '';
      p.stdout?.on('data', (d: Buffer) => {
        if (out.length < 1_000) out += d.toString('utf8');
      });
      await p.done;
      const n = /collections: (\d+)/.exec(out)?.[1];
      if (n === undefined) throw new AppError('AKS_INTERNAL', { reference: 'count-collections-output' });
      return Number(n) === 0;
    },
    async dropRestored(database, restored, marker) {
      const p = await execWithConfig(['mongosh', '--nodb', '--quiet', '--norc', '--eval', dropRestoredScript(database, restored, marker)], `mongosh undo restore into ${database}`, false);
      let out = '';
      p.stdout?.on('data', (d: Buffer) => {
        if (out.length < 100_000) out += d.toString('utf8');
      });
      await p.done;
      const line = /undo: (\{.*\})/.exec(out)?.[1];
      if (line === undefined) throw new AppError('AKS_INTERNAL', { reference: 'undo-restore-output' });
      return JSON.parse(line) as { dropped: string[]; others: string[] };
    },
    async version() {
      // `--version` needs no credentials, so it runs without the config script
      const pod = await findMongoPod(deps.core, target);
      let out = '';
      let st: V1Status | undefined;
      const sink = new Writable({
        write(chunk: Buffer, _e, cb) {
          out += chunk.toString('utf8');
          cb();
        },
      });
      const shown = `mongodump --version (in pod ${target.namespace}/${pod})`;
      try {
        const conn = (await deps.exec.exec(target.namespace, pod, deps.container, ['mongodump', '--version'], sink, null, null, false, (s) => {
          st = s;
        })) as unknown as ExecSocket;
        await new Promise<void>((resolve) => conn.on('close', () => resolve()));
      } catch (err) {
        throw new ExecError('AKS_EXEC_FAILED', { command: shown, exitCode: -1, stderr: redactor.text(describe(err)) }, { cause: err });
      }
      if (st?.status !== 'Success') throw new ExecError('AKS_EXEC_FAILED', { command: shown, exitCode: -1, stderr: redactor.text(st?.message ?? 'no exit status') });
      return /version:\s*(\S+)/.exec(out)?.[1] ?? out.split('\n')[0]?.trim() ?? 'unknown';
    },
  };
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  const msg = (err as { message?: unknown } | null)?.message;
  return typeof msg === 'string' ? msg : String(err);
}
