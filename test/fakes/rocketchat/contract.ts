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
  requestSchema: Json | undefined;
  responses: Record<string, Json | undefined>;
}

export interface ExchangeRequest {
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly query: Readonly<Record<string, string>>;
  readonly body: unknown;
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
  private readonly ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  private readonly compiled = new WeakMap<Json, ValidateFunction>();

  constructor(dir = OPENAPI_DIR) {
    for (const name of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
      const doc = parse(readFileSync(join(dir, name), 'utf8')) as Json;
      const paths = (doc.paths ?? {}) as Record<string, Record<string, Json>>;
      for (const [path, item] of Object.entries(paths)) {
        for (const [method, raw] of Object.entries(item)) {
          if (!['get', 'post', 'put', 'delete', 'patch'].includes(method)) continue;
          const op = deref(raw, doc) as Json;
          const body = (op.requestBody as Json | undefined)?.content as Record<string, Json> | undefined;
          const responses: Record<string, Json | undefined> = {};
          for (const [status, r] of Object.entries((op.responses ?? {}) as Record<string, Json>)) {
            const content = r.content as Record<string, Json> | undefined;
            responses[status] = content?.['application/json']?.schema as Json | undefined;
          }
          this.ops.set(`${method.toUpperCase()} ${path}`, {
            file: name,
            parameters: (op.parameters ?? []) as Parameter[],
            requestSchema: body?.['application/json']?.schema as Json | undefined,
            responses,
          });
        }
      }
    }
  }

  has(method: string, path: string): boolean {
    return this.ops.has(`${method} ${path}`);
  }

  /** Violations of the documented request: unknown operation, missing required header/query, body schema. */
  checkRequest(method: string, path: string, req: ExchangeRequest): string[] {
    const op = this.ops.get(`${method} ${path}`);
    if (!op) return [`${method} ${path} is not an operation in the Rocket.Chat OpenAPI files`];
    const out: string[] = [];
    for (const p of op.parameters) {
      const value = p.in === 'header' ? req.headers[p.name.toLowerCase()] : p.in === 'query' ? req.query[p.name] : undefined;
      if (p.required && (value === undefined || value === '')) out.push(`${method} ${path}: required ${p.in} parameter ${p.name} is missing`);
    }
    for (const key of Object.keys(req.query)) {
      if (!op.parameters.some((p) => p.in === 'query' && p.name === key)) out.push(`${method} ${path}: undocumented query parameter ${key}`);
    }
    if (op.requestSchema) out.push(...this.check(op.requestSchema, req.body, `${method} ${path} request body`));
    else if (req.body !== undefined && method !== 'GET') out.push(`${method} ${path}: takes no request body`);
    return out;
  }

  /** Violations of the documented response for this status. */
  checkResponse(method: string, path: string, status: number, body: unknown): string[] {
    const op = this.ops.get(`${method} ${path}`);
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
