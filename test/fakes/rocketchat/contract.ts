import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';

// The official Rocket.Chat OpenAPI files (copied unchanged from the shared contracts folder into ./openapi so the
// suite runs from a fresh clone). Every exchange with the fake goes through `checkRequest` / `checkResponse`,
// so the fake and the bot's client cannot drift from the real API unnoticed.
export const OPENAPI_DIR = join(dirname(fileURLToPath(import.meta.url)), 'openapi');

type Json = Record<string, unknown>;

interface Parameter {
  name: string;
  in: 'header' | 'query' | 'path' | 'cookie';
  required?: boolean;
  schema?: Json;
}

interface Operation {
  file: string;
  parameters: Parameter[];
  /** Request body schema per documented media type (application/json, multipart/form-data). */
  requestSchemas: Record<string, Json | undefined>;
  responses: Record<string, Json | undefined>;
}

/** A documented path with {parameters} (rooms.media/{rid}) as a matcher; literal paths are looked up directly. */
interface Template {
  readonly key: string;
  readonly method: string;
  readonly regex: RegExp;
  readonly names: readonly string[];
}

export interface ExchangeRequest {
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly query: Readonly<Record<string, string>>;
  /** JSON: the parsed value; multipart/form-data: the fields, files as `{ filename, type, size }`. */
  readonly body: unknown;
}

export interface ResolvedOperation {
  /** "POST /api/v1/rooms.media/{rid}" — the documented operation. */
  readonly key: string;
  readonly params: Readonly<Record<string, string>>;
}

/**
 * Rocket.Chat's rate limiter answers any route with 429 and this body; the per-endpoint OpenAPI files do not
 * list it, so the fake checks it against this schema (from the server's rate limiter, `error-too-many-requests`).
 */
const RATE_LIMITED_SCHEMA: Json = {
  type: 'object',
  required: ['success', 'error'],
  properties: { success: { const: false }, error: { type: 'string', pattern: 'error-too-many-requests' } },
};

/** Rocket.Chat's generic API error bodies: `{success:false, error, errorType?}` or `{status:'error', message}`. */
const GENERIC_ERROR_SCHEMA: Json = {
  oneOf: [
    { type: 'object', required: ['success', 'error'], properties: { success: { const: false }, error: { type: 'string' }, errorType: { type: 'string' } } },
    { type: 'object', required: ['status', 'message'], properties: { status: { const: 'error' }, message: { type: 'string' } } },
  ],
};

export class OpenApiContract {
  private readonly ops = new Map<string, Operation>();
  private readonly templates: Template[] = [];
  private readonly ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  private readonly compiled = new WeakMap<Json, ValidateFunction>();

  constructor(dir = OPENAPI_DIR) {
    for (const name of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
      const doc = parse(readFileSync(join(dir, name), 'utf8')) as Json;
      const paths = (doc.paths ?? {}) as Record<string, Record<string, Json>>;
      for (const [path, item] of Object.entries(paths)) {
        // Parameters may sit on the path item (shared by its operations) as well as on each operation.
        const shared = (deref(item.parameters ?? [], doc) ?? []) as Parameter[];
        for (const [method, raw] of Object.entries(item)) {
          if (!['get', 'post', 'put', 'delete', 'patch'].includes(method)) continue;
          const op = deref(raw, doc) as Json;
          const body = (op.requestBody as Json | undefined)?.content as Record<string, Json> | undefined;
          const responses: Record<string, Json | undefined> = {};
          for (const [status, r] of Object.entries((op.responses ?? {}) as Record<string, Json>)) {
            const json = (r.content as Record<string, Json> | undefined)?.['application/json'];
            const schema = json?.schema as Json | undefined;
            responses[status] = schema && status.startsWith('2') ? requireDocumented(schema, documentedExamples(raw, status, doc)) : schema;
          }
          const key = `${method.toUpperCase()} ${path}`;
          this.ops.set(key, {
            file: name,
            parameters: [...shared, ...((op.parameters ?? []) as Parameter[])],
            requestSchemas: Object.fromEntries(Object.entries(body ?? {}).map(([type, c]) => [type, c.schema as Json | undefined])),
            responses,
          });
          if (path.includes('{')) {
            const names: string[] = [];
            const pattern = path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{([^}]+)\}/g, (_m, n: string) => {
              names.push(n);
              return '([^/]+)';
            });
            this.templates.push({ key, method: method.toUpperCase(), regex: new RegExp(`^${pattern}$`), names });
          }
        }
      }
    }
  }

  has(method: string, path: string): boolean {
    return this.resolve(method, path) !== undefined;
  }

  /** The documented operation a concrete path is, with its path parameters (decoded). */
  resolve(method: string, path: string): ResolvedOperation | undefined {
    const key = `${method} ${path}`;
    if (this.ops.has(key)) return { key, params: {} };
    for (const t of this.templates) {
      if (t.method !== method) continue;
      const m = t.regex.exec(path);
      if (!m) continue;
      const params: Record<string, string> = {};
      t.names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1] ?? '')));
      return { key: t.key, params };
    }
    return undefined;
  }

  /**
   * Violations of the documented request: unknown operation, missing required header/query/path parameter,
   * undocumented media type, body schema (multipart fields are checked as an object of their names).
   */
  checkRequest(method: string, path: string, req: ExchangeRequest): string[] {
    const resolved = this.resolve(method, path);
    const op = resolved && this.ops.get(resolved.key);
    if (!resolved || !op) return [`${method} ${path} is not an operation in the Rocket.Chat OpenAPI files`];
    const out: string[] = [];
    for (const p of op.parameters) {
      const value = p.in === 'header' ? req.headers[p.name.toLowerCase()] : p.in === 'query' ? req.query[p.name] : p.in === 'path' ? resolved.params[p.name] : undefined;
      if (p.required && (value === undefined || value === '')) out.push(`${method} ${path}: required ${p.in} parameter ${p.name} is missing`);
    }
    for (const key of Object.keys(req.query)) {
      if (!op.parameters.some((p) => p.in === 'query' && p.name === key)) out.push(`${method} ${path}: undocumented query parameter ${key}`);
    }
    const types = Object.keys(op.requestSchemas);
    const sent = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (types.length === 0) {
      if (req.body !== undefined && method !== 'GET') out.push(`${method} ${path}: takes no request body`);
      return out;
    }
    // No body (or no content type) is checked as JSON, as before multipart was known: a missing body then fails
    // the documented schema instead of passing unnoticed.
    const type = req.body === undefined || sent === '' ? 'application/json' : types.find((t) => t === sent);
    if (!type || !(type in op.requestSchemas)) return [...out, `${method} ${path}: request content type "${sent}" is not documented (documented: ${types.join(', ')})`];
    const schema = op.requestSchemas[type];
    if (schema) out.push(...this.check(type === 'multipart/form-data' ? multipartSchema(schema) : schema, req.body, `${method} ${path} request body`));
    return out;
  }

  /** Violations of the documented response for this status. */
  checkResponse(method: string, path: string, status: number, body: unknown): string[] {
    const opKey = this.resolve(method, path)?.key;
    const op = opKey === undefined ? undefined : this.ops.get(opKey);
    if (!op) return [`${method} ${path} is not an operation in the Rocket.Chat OpenAPI files`];
    if (status === 429) return this.check(RATE_LIMITED_SCHEMA, body, `${method} ${path} 429 response`);
    const key = String(status);
    if (!(key in op.responses) && !('default' in op.responses)) {
      // Many operations document only 200; the server's generic error bodies still apply to their 4xx answers.
      if (status >= 400 && status < 500) return this.check(GENERIC_ERROR_SCHEMA, body, `${method} ${path} ${status} response`);
      return [`${method} ${path}: status ${status} is not documented (documented: ${Object.keys(op.responses).join(', ')})`];
    }
    const schema = op.responses[key] ?? op.responses.default;
    return schema ? this.check(schema, body, `${method} ${path} ${status} response`) : [];
  }

  private check(schema: Json, value: unknown, what: string): string[] {
    let validate = this.compiled.get(schema);
    if (!validate) {
      validate = this.ajv.compile(schema);
      this.compiled.set(schema, validate);
    }
    if (validate(value)) return [];
    return (validate.errors ?? []).map((e) => `${what}: ${e.instancePath || '/'} ${e.message ?? 'is invalid'}`);
  }
}

/**
 * A multipart part is text or a file; the OpenAPI describes a file as `type: string, format: binary`. The fake
 * hands files over as `{ filename, type, size }`, so binary properties accept that shape.
 */
function multipartSchema(schema: Json): Json {
  const props = (schema.properties ?? {}) as Record<string, Json>;
  const file: Json = { type: 'object', required: ['filename', 'size'], properties: { filename: { type: 'string' }, type: { type: 'string' }, size: { type: 'integer' } } };
  return { ...schema, properties: Object.fromEntries(Object.entries(props).map(([k, v]) => [k, v.format === 'binary' ? { ...file, description: v.description } : v])) };
}

/**
 * The JSON examples a response documents (`example` or `examples.*.value`), read before `deref` drops them.
 */
function documentedExamples(rawOp: Json, status: string, doc: Json): unknown[] {
  const r = resolveRef(((rawOp.responses ?? {}) as Record<string, Json>)[status], doc) as Json | undefined;
  const json = (r?.content as Record<string, Json> | undefined)?.['application/json'];
  if (!json) return [];
  if (json.example !== undefined) return [json.example];
  return Object.values((json.examples ?? {}) as Record<string, Json>).map((e) => (resolveRef(e, doc) as Json).value).filter((v) => v !== undefined);
}

function resolveRef(node: unknown, doc: Json): unknown {
  let n = node;
  for (let i = 0; i < 20 && n && typeof n === 'object' && typeof (n as Json).$ref === 'string'; i++) {
    let target: unknown = doc;
    for (const part of ((n as Json).$ref as string).slice(2).split('/')) target = (target as Json)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
    n = target;
  }
  return n;
}

/**
 * Rocket.Chat's response schemas list properties but mark none required, so an empty object would pass them. A
 * property the schema lists AND every documented example of that answer carries is what the server sends: the fake
 * must send it too. Only the top level of the answer: deeper, the examples hold data of their own (a message's
 * reactions, a room's last message) that no general rule can require.
 */
function requireDocumented(schema: Json, examples: unknown[]): Json {
  const objects = examples.filter((e): e is Json => e !== null && typeof e === 'object' && !Array.isArray(e));
  if (objects.length === 0 || objects.length !== examples.length) return schema;
  const props = schema.properties as Record<string, Json> | undefined;
  const out: Json = { ...schema };
  if (props) {
    const always = Object.keys(props).filter((k) => objects.every((o) => k in o));
    if (always.length) out.required = [...new Set([...((schema.required as string[] | undefined) ?? []), ...always])];
  }
  return out;
}

/** Inlines local `#/...` references; the Rocket.Chat files only reference within the same file. */
function deref(node: unknown, doc: Json, depth = 0): unknown {
  if (depth > 50) throw new Error('OpenAPI $ref nesting too deep');
  if (Array.isArray(node)) return node.map((n) => deref(n, doc, depth + 1));
  if (node === null || typeof node !== 'object') return node;
  const obj = node as Json;
  if (typeof obj.$ref === 'string') {
    const ref = obj.$ref;
    if (!ref.startsWith('#/')) throw new Error(`unsupported $ref ${ref}`);
    let target: unknown = doc;
    for (const part of ref.slice(2).split('/')) target = (target as Json)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
    if (target === undefined) throw new Error(`unresolved $ref ${ref}`);
    return deref(target, doc, depth + 1);
  }
  const out: Json = {};
  for (const [k, v] of Object.entries(obj)) {
    // `example(s)` hold sample values, not schema; skipping them keeps ajv from reading them as keywords.
    if (k === 'example' || k === 'examples') continue;
    out[k] = deref(v, doc, depth + 1);
  }
  return out;
}
