import { request } from 'node:https';
import type { RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

/**
 * The Kubernetes API as plain JSON, for code that must carry objects across clusters byte for byte: the typed
 * clients turn objects into model classes and back, which renames or drops fields they do not model (a CRD's
 * `x-kubernetes-*` schema keys, a custom resource's spec) and turns timestamps into Dates. Authentication and TLS
 * come from the KubeConfig, as for the typed clients.
 */
export interface KubeJsonApi {
  /** GET; undefined on 404. */
  get(path: string): Promise<Record<string, unknown> | undefined>;
  /** Every item of a list path, following `continue` tokens. */
  list(path: string): Promise<Record<string, unknown>[]>;
  /** Server-side apply (PATCH application/apply-patch+yaml, JSON being YAML) of one object at its path. */
  apply(path: string, body: unknown, o: { fieldManager: string; force?: boolean; dryRun?: boolean }): Promise<Record<string, unknown>>;
}

/** An API answer other than 2xx (and other than a GET's 404). */
export class KubeApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

export function kubeJsonApi(kc: KubeConfig, o: { timeoutMs?: number } = {}): KubeJsonApi {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const base = new URL(cluster.server);
  const timeoutMs = o.timeoutMs ?? 30_000;

  async function send(method: string, path: string, body?: string, contentType?: string): Promise<{ status: number; json: Record<string, unknown> }> {
    const opts: RequestOptions = {};
    await kc.applyToHTTPSOptions(opts);
    const url = new URL(path, base);
    const headers: Record<string, string> = { ...(opts.headers as Record<string, string> | undefined), Accept: 'application/json' };
    if (body !== undefined) {
      headers['Content-Type'] = contentType ?? 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(body));
    }
    return new Promise((resolve, reject) => {
      const req = request(url, { ...opts, method, headers, timeout: timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: Record<string, unknown> = {};
          try {
            json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
          } catch {
            json = { message: text.slice(0, 200) };
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
      });
      req.on('timeout', () => req.destroy(new Error(`the Kubernetes API did not answer ${method} ${url.pathname} within ${timeoutMs} ms`)));
      req.on('error', reject);
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  const fail = (method: string, path: string, r: { status: number; json: Record<string, unknown> }) =>
    new KubeApiError(r.status, String(r.json.reason ?? ''), `${method} ${path}: ${r.status} ${String(r.json.message ?? r.json.reason ?? '')}`.slice(0, 500));

  return {
    async get(path) {
      const r = await send('GET', path);
      if (r.status === 404) return undefined;
      if (r.status < 200 || r.status > 299) throw fail('GET', path, r);
      return r.json;
    },
    async list(path) {
      const items: Record<string, unknown>[] = [];
      let token: string | undefined;
      do {
        const p = `${path}?limit=500${token ? `&continue=${encodeURIComponent(token)}` : ''}`;
        const r = await send('GET', p);
        if (r.status < 200 || r.status > 299) throw fail('GET', path, r);
        const kind = String(r.json.kind ?? '').replace(/List$/, '');
        const apiVersion = r.json.apiVersion;
        // list items carry neither kind nor apiVersion; the list says them once
        for (const it of (r.json.items as Record<string, unknown>[] | undefined) ?? []) items.push({ apiVersion, kind, ...it });
        token = ((r.json.metadata as { continue?: string } | undefined)?.continue) || undefined;
      } while (token);
      return items;
    },
    async apply(path, body, o) {
      const q = new URLSearchParams({ fieldManager: o.fieldManager });
      if (o.force) q.set('force', 'true');
      if (o.dryRun) q.set('dryRun', 'All');
      const r = await send('PATCH', `${path}?${q}`, JSON.stringify(body), 'application/apply-patch+yaml');
      if (r.status < 200 || r.status > 299) throw fail('PATCH', path, r);
      return r.json;
    },
  };
}
