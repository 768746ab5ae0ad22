import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { AppError, ExecError } from './app-error.js';

export interface UserFacingError {
  code: string;
  message: string;
  fix: string;
  /** Extra lines safe to show (e.g. a redacted stderr excerpt); never a stack trace. */
  details?: string;
}

const STDERR_LINES_SHOWN = 8;

/**
 * The one place that turns any thrown value into what a user sees in chat, the CLI or email.
 * Unknown errors are logged in full under a reference and shown only as that reference.
 */
export function toUserFacing(err: unknown, log?: Logger): UserFacingError {
  if (err instanceof ExecError) {
    const excerpt = err.stderr.trimEnd().split('\n').slice(-STDERR_LINES_SHOWN).join('\n');
    return { code: err.code, message: err.message, fix: err.fix, ...(excerpt ? { details: excerpt } : {}) };
  }
  if (err instanceof AppError) return { code: err.code, message: err.message, fix: err.fix, ...(err.help ? { details: err.help } : {}) };
  const reference = randomBytes(4).toString('hex');
  log?.error({ err, reference }, 'unexpected error');
  const internal = new AppError('AKS_INTERNAL', { reference });
  return { code: internal.code, message: internal.message, fix: internal.fix };
}

export function formatUserFacing(e: UserFacingError): string {
  const lines = [`${e.message} [${e.code}]`];
  if (e.details) lines.push(e.details);
  lines.push(`How to fix: ${e.fix}`);
  return lines.join('\n');
}
