import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { WebSocketServer, type WebSocket } from 'ws';

/**
 * A stand-in for the kubelet's exec endpoint, which cannot run here (the sandbox cluster is kwok: no kubelet).
 * It speaks the real wire format the apiserver forwards: `GET /api/v1/namespaces/{ns}/pods/{pod}/exec?command=…`
 * upgraded to a WebSocket with subprotocol `v5.channel.k8s.io` (or `v4.channel.k8s.io`), every frame prefixed by
 * its channel (0 stdin, 1 stdout, 2 stderr, 3 status JSON, 255 close-stream on v5). The requested command runs
 * as a real local process, so `sh -c` + mongodump/mongorestore from the sandbox do the work against FerretDB.
 * The child process is started here directly: this is the "container runtime", not the bot.
 */
export interface ExecRequest {
  readonly url: string;
  readonly namespace: string;
  readonly pod: string;
  readonly container: string | null;
  readonly command: readonly string[];
  readonly protocol: string;
}

export interface FakeKubeExec {
  readonly url: string;
  readonly requests: ExecRequest[];
  /** A kubeconfig file pointing at this server (plain HTTP, no auth), for an unmodified KubeConfig. */
  writeKubeconfig(dir: string): Promise<string>;
  close(): Promise<void>;
}

export interface FakeKubeExecOptions {
  /** Prepended to PATH for the command, e.g. the folder holding the sandbox mongodump. */
  readonly pathPrefix?: string;
  /** Subprotocols the server accepts, best first; the default is what Kubernetes 1.30+ offers. */
  readonly protocols?: readonly string[];
  /**
   * A real apiserver (the sandbox's) that every request other than an exec is passed to, authenticated with its
   * own kubeconfig: one kubeconfig pointing here then serves a whole unmodified client — Secrets, Pods and
   * Deployments from the real apiserver, exec from this stand-in kubelet. Without it, those requests get 404.
   */
  readonly upstream?: KubeConfig;
}

const EXEC_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/exec$/;

export async function startFakeKubeExec(opts: FakeKubeExecOptions = {}): Promise<FakeKubeExec> {
  const accepted = opts.protocols ?? ['v5.channel.k8s.io', 'v4.channel.k8s.io'];
  const requests: ExecRequest[] = [];
  const upstream = opts.upstream;
  const http = createServer((req, res) => {
    if (upstream) return void forward(upstream, req, res);
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 }));
  });
  const wss = new WebSocketServer({
    server: http,
    handleProtocols: (offered) => accepted.find((p) => offered.has(p)) ?? false,
  });
  wss.on('connection', (ws: WebSocket, req: IncomingMessage) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const m = EXEC_PATH.exec(url.pathname);
    const command = url.searchParams.getAll('command');
    if (!m || command.length === 0) {
      ws.close(1008, 'not an exec request');
      return;
    }
    requests.push({ url: req.url ?? '', namespace: m[1]!, pod: m[2]!, container: url.searchParams.get('container'), command, protocol: ws.protocol });
    runExec(ws, command, url.searchParams.get('stdin') === 'true', opts.pathPrefix);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    async writeKubeconfig(dir) {
      const file = join(dir, 'fake-exec.kubeconfig');
      const kc = [
        'apiVersion: v1',
        'kind: Config',
        // plain HTTP: the client only allows it with TLS verification switched off
        'clusters: [{name: fake, cluster: {server: "' + url + '", insecure-skip-tls-verify: true}}]',
        'users: [{name: fake, user: {token: fake-token}}]',
        'contexts: [{name: fake, context: {cluster: fake, user: fake}}]',
        'current-context: fake',
        '',
      ].join('\n');
      await writeFile(file, kc, { mode: 0o600 });
      return file;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => http.close(() => resolve()));
      }),
  };
}

/** Passes one API request to the upstream apiserver with the upstream's credentials (the client's are dropped). */
async function forward(kc: KubeConfig, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error('the upstream kubeconfig has no current cluster');
  const target = new URL(req.url ?? '/', server);
  const headers = { ...req.headers, host: target.host };
  delete headers.authorization;
  const options: RequestOptions = { method: req.method ?? 'GET', headers };
  await kc.applyToHTTPSOptions(options);
  const up = httpsRequest(target, options, (r) => {
    res.writeHead(r.statusCode ?? 502, r.headers);
    r.pipe(res);
  });
  up.on('error', (err) => {
    res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(`upstream apiserver: ${err.message}`);
  });
  req.pipe(up);
}

function frame(channel: number, data: Buffer): Buffer {
  return Buffer.concat([Buffer.from([channel]), data]);
}

function runExec(ws: WebSocket, command: string[], withStdin: boolean, pathPrefix?: string): void {
  const [file, ...args] = command;
  const env = { ...process.env, ...(pathPrefix ? { PATH: `${pathPrefix}:${process.env.PATH ?? ''}` } : {}) };
  const child = spawn(file!, args, { env, stdio: [withStdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  const { stdout, stderr } = child as unknown as { stdout: NodeJS.ReadableStream; stderr: NodeJS.ReadableStream };
  const forward = (channel: number) => (data: Buffer) => {
    if (ws.readyState !== ws.OPEN) return;
    const src = channel === 1 ? stdout : stderr;
    // the kubelet does not read faster than the client takes it: pause until the frame is handed to the socket
    src.pause();
    ws.send(frame(channel, data), () => src.resume());
  };
  stdout.on('data', forward(1));
  stderr.on('data', forward(2));
  child.stdin?.on('error', () => undefined);
  ws.on('message', (data: Buffer) => {
    const channel = data[0];
    if (channel === 0 && child.stdin) {
      if (!child.stdin.write(data.subarray(1))) {
        ws.pause();
        child.stdin.once('drain', () => ws.resume());
      }
    } else if (channel === 255 && data[1] === 0) {
      child.stdin?.end();
    }
  });
  ws.on('close', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  });
  child.on('error', (err) => {
    sendStatus(ws, { status: 'Failure', message: err.message, reason: 'InternalError' });
  });
  child.on('close', (code, signal) => {
    if (code === 0) return sendStatus(ws, { status: 'Success' });
    const exit = code ?? (signal ? 128 + 15 : 1);
    sendStatus(ws, {
      status: 'Failure',
      message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${exit}`,
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: String(exit) }] },
    });
  });
}

function sendStatus(ws: WebSocket, status: Record<string, unknown>): void {
  if (ws.readyState !== ws.OPEN) return;
  ws.send(frame(3, Buffer.from(JSON.stringify({ metadata: {}, ...status }))), () => ws.close(1000));
}
