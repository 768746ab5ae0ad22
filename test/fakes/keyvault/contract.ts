import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';

// The official Key Vault data-plane OpenAPI (Swagger 2.0) files, copied unchanged into ./openapi so the suite runs
// from a fresh clone; test/integration/sandbox/keyvault.test.ts keeps the copies identical to the shared contracts.
export const OPENAPI_DIR = join(dirname(fileURLToPath(import.meta.url)), 'openapi');
export const KEYS_OPENAPI = join('Keys', 'stable', '7.5', 'keys.json');
export const SECRETS_OPENAPI = join('Secrets', 'stable', '2025-07-01', 'secrets.json');

type Json = Record<string, unknown>;
interface Operation {
  readonly operationId: string;
  readonly request?: ValidateFunction;
  readonly ok?: ValidateFunction;
  readonly error?: ValidateFunction;
}

/**
 * Request and response bodies of the keys API, checked against the schema definitions of keys.json. The fake calls
 * `checkRequest` before it acts and `checkResponse` before it answers, so a client (or the fake itself) that sends a
 * shape the real service would not fails the test that caused it instead of passing by accident.
 */
export class KeysContract {
  private readonly ajv = new Ajv({ strict: false, allErrors: true });
  private readonly doc: Json;
  private readonly ops = new Map<string, Operation>();

  constructor(file = join(OPENAPI_DIR, KEYS_OPENAPI)) {
    this.doc = JSON.parse(readFileSync(file, 'utf8')) as Json;
    // the formats Swagger uses for Key Vault bodies; unknown formats would otherwise pass unchecked
    this.ajv.addFormat('base64url', /^[A-Za-z0-9_-]*$/);
    this.ajv.addFormat('unixtime', true);
    this.ajv.addSchema({ ...this.doc, $id: 'keys.json' });
  }

  /** The operation documented at `path` (a template such as /keys/{key-name}/{key-version}/sign) for `method`. */
  private operation(method: string, path: string): Operation {
    const key = `${method} ${path}`;
    const known = this.ops.get(key);
    if (known) return known;
    const paths = this.doc.paths as Record<string, Record<string, Json>>;
    const op = paths[path]?.[method.toLowerCase()];
    if (!op) throw new Error(`keys.json documents no ${method} ${path}`);
    const body = ((op.parameters ?? []) as Json[]).find((p) => p.in === 'body');
    const responses = op.responses as Record<string, Json | undefined>;
    const compile = (schema: unknown): ValidateFunction | undefined => {
      const ref = (schema as { $ref?: string } | undefined)?.$ref;
      return ref ? this.ajv.compile({ $ref: `keys.json${ref}` }) : undefined;
    };
    const out: Operation = {
      operationId: String(op.operationId),
      request: compile(body?.schema),
      ok: compile(responses['200']?.schema),
      error: compile(responses.default?.schema),
    };
    this.ops.set(key, out);
    return out;
  }

  /** Undefined when the body is what the operation takes, else why not. */
  checkRequest(method: string, path: string, body: unknown): string | undefined {
    const op = this.operation(method, path);
    return op.request && !op.request(body) ? `${op.operationId} request: ${this.ajv.errorsText(op.request.errors)}` : undefined;
  }

  checkResponse(method: string, path: string, status: number, body: unknown): string | undefined {
    const op = this.operation(method, path);
    const v = status === 200 ? op.ok : op.error;
    return v && !v(body) ? `${op.operationId} response ${status}: ${this.ajv.errorsText(v.errors)}` : undefined;
  }
}
