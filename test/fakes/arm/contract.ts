import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

// The official Azure REST API definitions (Swagger 2.0) of what the fake ARM serves, copied unchanged into ./openapi
// (same `specification/...` layout, with the common-types files their $refs point to) so the suite runs from a fresh
// clone; test/unit/fakes/arm/contract-copy.test.ts keeps the copies identical to the team's shared contracts.
export const OPENAPI_DIR = join(dirname(fileURLToPath(import.meta.url)), 'openapi');

type Json = Record<string, unknown>;
// ajv-formats is CommonJS: its default export arrives wrapped under ESM interop.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv) => Ajv;

/** Where a JSON value sits: the file (relative to OPENAPI_DIR, posix) and its JSON pointer. */
interface Located {
  readonly file: string;
  readonly value: unknown;
}

interface Parameter {
  readonly name: string;
  readonly in: 'path' | 'query' | 'header' | 'body';
  readonly required: boolean;
  /** path/query/header: a validator of the value (type string for path and query as ARM reads them). */
  readonly check?: ValidateFunction;
  /** body: the schema's validator. */
  readonly body?: ValidateFunction;
}

interface Operation {
  readonly operationId: string;
  readonly method: string;
  readonly template: string;
  readonly regex: RegExp;
  readonly names: readonly string[];
  readonly apiVersion: string;
  readonly parameters: readonly Parameter[];
  /** By status ("200", "default"); null: documented without a body. */
  readonly responses: ReadonlyMap<string, ValidateFunction | null>;
}

/**
 * Paths the fake serves that are NOT operations of any definition: ARM's asynchronous-operation monitors (the URLs
 * handed out in Azure-AsyncOperation and Location). The ARM resource-provider contract defines their bodies with
 * the common type OperationStatusResult (status monitor) and ErrorResponse, so they are checked against those.
 */
const MONITORS: { operationId: string; regex: RegExp; kind: 'status' | 'result' | 'compute' }[] = [
  { operationId: 'ContainerService_OperationStatus', regex: /^\/subscriptions\/[^/]+\/providers\/microsoft\.containerservice\/locations\/[^/]+\/operations\/[^/]+$/i, kind: 'status' },
  { operationId: 'ContainerService_OperationResult', regex: /^\/subscriptions\/[^/]+\/providers\/microsoft\.containerservice\/locations\/[^/]+\/operationresults\/[^/]+$/i, kind: 'result' },
  { operationId: 'Compute_DiskOperation', regex: /^\/subscriptions\/[^/]+\/providers\/microsoft\.compute\/locations\/[^/]+\/diskoperations\/[^/]+$/i, kind: 'compute' },
  { operationId: 'Network_OperationStatus', regex: /^\/subscriptions\/[^/]+\/providers\/microsoft\.network\/locations\/[^/]+\/operations\/[^/]+$/i, kind: 'status' },
  { operationId: 'Network_OperationResult', regex: /^\/subscriptions\/[^/]+\/providers\/microsoft\.network\/locations\/[^/]+\/operationresults\/[^/]+$/i, kind: 'result' },
];

/**
 * Operations the fake serves whose definitions are not among the copies (the shared contracts hold no Network or
 * Compute resource-SKU definitions). They are listed here, by name, so that nothing else can go unchecked: every
 * other path must be an operation of a definition. Their error answers are still checked against ErrorResponse.
 */
export const UNDEFINED_IN_COPIES: { operationId: string; method: string; regex: RegExp }[] = [
  { operationId: 'PublicIPAddresses_ListAll', method: 'GET', regex: /^\/subscriptions\/[^/]+\/providers\/microsoft\.network\/publicipaddresses$/i },
  { operationId: 'PublicIPAddresses_Get', method: 'GET', regex: /^\/subscriptions\/[^/]+\/resourcegroups\/[^/]+\/providers\/microsoft\.network\/publicipaddresses\/[^/]+$/i },
  { operationId: 'PublicIPAddresses_Delete', method: 'DELETE', regex: /^\/subscriptions\/[^/]+\/resourcegroups\/[^/]+\/providers\/microsoft\.network\/publicipaddresses\/[^/]+$/i },
  { operationId: 'ResourceSkus_List', method: 'GET', regex: /^\/subscriptions\/[^/]+\/providers\/microsoft\.compute\/skus$/i },
];

export interface ContractRequest {
  readonly method: string;
  readonly path: string;
  readonly search: URLSearchParams;
  readonly body: unknown;
}

/** What a path is in the definitions: a documented operation, a monitor, an operation without a copy, or nothing. */
export type Resolved =
  | { kind: 'operation'; op: Operation; params: Record<string, string> }
  | { kind: 'monitor'; operationId: string; monitor: (typeof MONITORS)[number]['kind'] }
  | { kind: 'undefined-in-copies'; operationId: string }
  | { kind: 'unknown' };

const BASE = 'https://fake-arm.contract/';

/**
 * The Azure definitions as a checker of the fake ARM's exchanges: which operation a request is (path template and
 * method, case-insensitive as ARM), whether its api-version is the definition's, its required parameters and body
 * schema; whether the response status is documented for the operation (else its `default`, the error schema) and the
 * body matches that status's schema. $refs resolve across the copied files, as they do in the definitions.
 */
export class ArmContract {
  private readonly ajv = new Ajv({ strict: false, allErrors: true, logger: false });
  private readonly docs = new Map<string, Json>();
  private readonly operations: Operation[] = [];
  private readonly statusResult: ValidateFunction;
  private readonly errorResponse: ValidateFunction;
  private counter = 0;

  constructor(dir = OPENAPI_DIR) {
    addFormats(this.ajv);
    // Swagger formats of the definitions that JSON Schema has no checker for: any string of the right type.
    for (const f of ['arm-id', 'unixtime', 'duration', 'decimal', 'file', 'base64url']) this.ajv.addFormat(f, true);
    for (const file of walk(dir)) {
      const rel = relative(dir, file).split(sep).join('/');
      const doc = JSON.parse(readFileSync(file, 'utf8')) as Json;
      this.docs.set(rel, doc);
      this.ajv.addSchema(swaggerToJsonSchema(doc) as Json, BASE + rel);
    }
    for (const [rel, doc] of this.docs) {
      const paths = { ...((doc.paths ?? {}) as Record<string, Json>), ...((doc['x-ms-paths'] ?? {}) as Record<string, Json>) };
      const apiVersion = String((doc.info as Json | undefined)?.version ?? '');
      for (const [template, item] of Object.entries(paths)) {
        const shared = (item.parameters ?? []) as unknown[];
        for (const [method, raw] of Object.entries(item)) {
          if (!['get', 'put', 'post', 'delete', 'patch', 'head'].includes(method)) continue;
          const op = raw as Json;
          const located = [...shared, ...((op.parameters ?? []) as unknown[])].map((p) => this.locate(rel, p));
          const parameters = located.map((p) => this.parameter(p));
          // A path parameter the SDK does not URL-encode ({scope} of Cost Management) spans several segments.
          const spanning = new Set(located.map((p) => p.value as Json).filter((p) => p.in === 'path' && p['x-ms-skip-url-encoding'] === true).map((p) => String(p.name)));
          const names: string[] = [];
          const pattern = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{([^}]+)\}/g, (_m, n: string) => {
            names.push(n);
            return spanning.has(n) ? '(.+)' : '([^/]+)';
          });
          const responses = new Map<string, ValidateFunction | null>();
          for (const [status, r] of Object.entries((op.responses ?? {}) as Record<string, unknown>)) {
            const located = this.locate(rel, r);
            const schema = (located.value as Json).schema;
            responses.set(status, schema === undefined ? null : this.compileAt(located.file, schema));
          }
          this.operations.push({
            operationId: String(op.operationId),
            method: method.toUpperCase(),
            template,
            regex: new RegExp(`^${pattern}$`, 'i'),
            names,
            apiVersion,
            parameters,
            responses,
          });
        }
      }
    }
    // More literal segments first, so /managedClusters/{name}/agentPools is not read as a longer template's parameter.
    this.operations.sort((a, b) => b.template.split('/').filter((s) => !s.startsWith('{')).length - a.template.split('/').filter((s) => !s.startsWith('{')).length);
    const v5 = 'specification/common-types/resource-management/v5/types.json';
    this.statusResult = this.ajv.compile({ $ref: `${BASE}${v5}#/definitions/OperationStatusResult` });
    this.errorResponse = this.ajv.compile({ $ref: `${BASE}${v5}#/definitions/ErrorResponse` });
  }

  resolve(method: string, path: string): Resolved {
    for (const op of this.operations) {
      if (op.method !== method) continue;
      const m = op.regex.exec(path);
      if (!m) continue;
      const params: Record<string, string> = {};
      op.names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1] ?? '')));
      return { kind: 'operation', op, params };
    }
    const monitor = method === 'GET' ? MONITORS.find((x) => x.regex.test(path)) : undefined;
    if (monitor) return { kind: 'monitor', operationId: monitor.operationId, monitor: monitor.kind };
    const undef = UNDEFINED_IN_COPIES.find((x) => x.method === method && x.regex.test(path));
    if (undef) return { kind: 'undefined-in-copies', operationId: undef.operationId };
    return { kind: 'unknown' };
  }

  /** The operation id a request is (for the violation list), or METHOD path when it is none. */
  operationId(method: string, path: string): string {
    const r = this.resolve(method, path);
    return r.kind === 'operation' ? r.op.operationId : r.kind === 'unknown' ? `${method} ${path}` : r.operationId;
  }

  /** Violations of the definition by a request: each "OperationId: what is wrong". */
  checkRequest(req: ContractRequest): string[] {
    const r = this.resolve(req.method, req.path);
    if (r.kind === 'unknown') return [`${req.method} ${req.path}: not an operation of the Azure definitions`];
    if (r.kind !== 'operation') return [];
    const { op, params } = r;
    const out: string[] = [];
    const sent = req.search.get('api-version');
    if (sent !== op.apiVersion) out.push(`${op.operationId}: api-version ${String(sent)} is not the definition's ${op.apiVersion}`);
    for (const p of op.parameters) {
      if (p.in === 'body') {
        if (req.body === undefined) {
          if (p.required) out.push(`${op.operationId}: the required request body is missing`);
        } else if (p.body && !p.body(req.body)) {
          out.push(...errors(p.body, `${op.operationId} request body`));
        }
        continue;
      }
      const value = p.in === 'path' ? params[p.name] : p.in === 'query' ? (req.search.get(p.name) ?? undefined) : undefined;
      if (p.in === 'header') continue; // the SDK's own headers (client request id, If-Match) are not the fake's business
      if (value === undefined || value === '') {
        if (p.required) out.push(`${op.operationId}: required ${p.in} parameter ${p.name} is missing`);
      } else if (p.check && p.name !== 'api-version' && !p.check(value)) {
        out.push(...errors(p.check, `${op.operationId} ${p.in} parameter ${p.name}`));
      }
    }
    if (req.body !== undefined && !op.parameters.some((p) => p.in === 'body')) out.push(`${op.operationId}: takes no request body`);
    return out;
  }

  /** Violations of the definition by a response to `method path`. */
  checkResponse(method: string, path: string, status: number, body: unknown): string[] {
    const r = this.resolve(method, path);
    if (r.kind === 'unknown') return [`${method} ${path}: not an operation of the Azure definitions (answered ${status})`];
    if (r.kind === 'undefined-in-copies') return status >= 400 ? check(this.errorResponse, `${r.operationId} ${status} response`, body) : [];
    if (r.kind === 'monitor') {
      if (status >= 400) return check(this.errorResponse, `${r.operationId} ${status} response`, body);
      const polling = r.monitor === 'status' || r.monitor === 'compute';
      if (status === 200 && polling && r.monitor === 'status') return check(this.statusResult, `${r.operationId} 200 response`, body);
      if (status === 200 && r.monitor === 'compute') {
        // One path for both: the status monitor's body, or (Location, monitor=true) the final resource.
        return body !== null && typeof body === 'object' && 'status' in body ? check(this.statusResult, `${r.operationId} 200 response`, body) : [];
      }
      if (status === 200 || status === 202 || status === 204) return status === 200 || body === undefined ? [] : [`${r.operationId}: a ${status} answer has no body`];
      return [`${r.operationId}: status ${status} is not an answer of an operation monitor`];
    }
    const { op } = r;
    const key = op.responses.has(String(status)) ? String(status) : op.responses.has('default') && status >= 400 ? 'default' : undefined;
    if (key === undefined) return [`${op.operationId}: status ${status} is not documented (documented: ${[...op.responses.keys()].join(', ')})`];
    const v = op.responses.get(key);
    if (v === null) return body === undefined ? [] : [`${op.operationId}: the ${status} response is documented without a body`];
    return v ? check(v, `${op.operationId} ${status} response`, body) : [];
  }

  private parameter(located: Located): Parameter {
    const p = located.value as Json;
    const where = p.in as Parameter['in'];
    if (where === 'body') return { name: String(p.name), in: 'body', required: p.required === true, body: p.schema ? this.compileAt(located.file, p.schema) : undefined };
    const { name: _n, in: _i, required: _r, description: _d, ...rest } = p;
    const schema = Object.fromEntries(Object.entries(rest).filter(([k]) => !k.startsWith('x-')));
    return { name: String(p.name), in: where, required: p.required === true, check: this.ajv.compile(swaggerToJsonSchema(schema) as Json) };
  }

  /** Follows a $ref (relative to `file`, possibly into another file) to the value it names. */
  private locate(file: string, node: unknown): Located {
    let cur: Located = { file, value: node };
    for (let i = 0; i < 20; i++) {
      const ref = (cur.value as Json | null)?.$ref;
      if (typeof ref !== 'string') return cur;
      const [target = '', pointer = ''] = ref.split('#');
      const nextFile = target ? posix.normalize(posix.join(posix.dirname(cur.file), target)) : cur.file;
      const doc = this.docs.get(nextFile);
      if (!doc) throw new Error(`$ref ${ref} in ${cur.file}: ${nextFile} is not among the copied definitions`);
      let value: unknown = doc;
      for (const part of pointer.split('/').slice(1)) value = (value as Json)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
      if (value === undefined) throw new Error(`$ref ${ref} in ${cur.file} names nothing`);
      cur = { file: nextFile, value };
    }
    throw new Error(`$ref chain too long in ${file}`);
  }

  /** A schema that sits inside `file` (inline in an operation): compiled with that file as its base. */
  private compileAt(file: string, schema: unknown): ValidateFunction {
    const base = BASE + file;
    const id = `${base.replace(/[^/]+$/, '')}__inline_${(this.counter += 1)}.json`;
    // Local refs (#/definitions/X) name the definition's own file; the new schema gets a sibling id so the relative
    // refs to other files resolve as they do from the definition.
    const fileName = file.split('/').pop() ?? '';
    const rewritten = rewriteLocalRefs(swaggerToJsonSchema(schema), fileName);
    return this.ajv.compile({ ...(rewritten as Json), $id: id });
  }
}

function walk(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const p = join(dir, name);
      return statSync(p).isDirectory() ? walk(p) : name.endsWith('.json') ? [p] : [];
    });
}

/**
 * Swagger 2.0 schema to what ajv reads: `x-nullable: true` allows null, as the Azure SDKs read it; the rest of the
 * Swagger-only keywords (discriminator as a string, x-ms-*) are ignored by ajv's non-strict mode.
 */
function swaggerToJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(swaggerToJsonSchema);
  if (node === null || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node as Json)) {
    // examples are sample data, not schema
    if (k === 'x-ms-examples' || k === 'example') continue;
    out[k] = swaggerToJsonSchema(v);
  }
  // Swagger's `type: file` is a binary stream, not JSON.
  if (out.type === 'file') delete out.type;
  if (out['x-nullable'] === true) {
    if (typeof out.type === 'string') return { ...out, type: [out.type, 'null'] };
    return { anyOf: [out, { type: 'null' }] };
  }
  return out;
}

function rewriteLocalRefs(node: unknown, fileName: string): unknown {
  if (Array.isArray(node)) return node.map((n) => rewriteLocalRefs(n, fileName));
  if (node === null || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node as Json)) out[k] = k === '$ref' && typeof v === 'string' && v.startsWith('#') ? `./${fileName}${v}` : rewriteLocalRefs(v, fileName);
  return out;
}

function check(v: ValidateFunction, what: string, value: unknown): string[] {
  return v(value) ? [] : errors(v, what);
}

function errors(v: ValidateFunction, what: string): string[] {
  return (v.errors ?? []).slice(0, 8).map((e) => `${what}: ${e.instancePath || '/'} ${e.message ?? 'is invalid'}${e.params && 'allowedValues' in e.params ? ` (${(e.params.allowedValues as unknown[]).join(', ')})` : ''}`);
}

let cached: ArmContract | undefined;
/** Compiling the definitions takes a moment; one checker per test worker is enough (it is read-only). */
export function sharedArmContract(): ArmContract {
  cached ??= new ArmContract();
  return cached;
}
