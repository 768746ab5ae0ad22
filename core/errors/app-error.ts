import { errorCatalog, type ErrorCode } from './catalog.js';

export type ErrorDetails = Readonly<Record<string, string | number | boolean | undefined>>;

function fill(template: string, details: ErrorDetails): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => {
    const v = details[key];
    return v === undefined ? whole : String(v);
  });
}

/** An error the bot knows how to explain: a catalog code plus the details that fill its message. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails;
  readonly fix: string;
  /** Safe extra lines for the user, such as usage and an example. */
  readonly help: string | undefined;

  constructor(code: ErrorCode, details: ErrorDetails = {}, options?: { cause?: unknown; help?: string }) {
    const spec = errorCatalog[code];
    super(fill(spec.message, details), options);
    this.name = 'AppError';
    this.code = code;
    this.details = details;
    this.fix = fill(spec.fix, details);
    this.help = options?.help;
  }
}

/** A child process failed: carries what is needed to understand why, with secrets already redacted. */
export class ExecError extends AppError {
  readonly command: string;
  readonly exitCode: number | undefined;
  readonly stderr: string;

  constructor(
    code: 'AKS_EXEC_FAILED' | 'AKS_EXEC_TIMEOUT' | 'AKS_EXEC_NOT_FOUND',
    fields: { command: string; exitCode?: number; stderr: string; timeoutMs?: number },
    options?: { cause?: unknown },
  ) {
    super(code, { command: fields.command, exitCode: fields.exitCode ?? 'none', timeoutMs: fields.timeoutMs }, options);
    this.name = 'ExecError';
    this.command = fields.command;
    this.exitCode = fields.exitCode;
    this.stderr = fields.stderr;
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}
