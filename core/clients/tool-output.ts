// What the clients of command-line tools (helm, tofu) share: a failure's stderr shortened for an error message,
// and the tool's JSON output read through a schema of only the fields used.
import type { z } from 'zod';
import { AppError } from '../errors/app-error.js';
import type { Redactor } from '../log/redact.js';

const STDERR_SHOWN = 600;

/** The end of a tool's stderr, on one line, for an error message (createExec has redacted it already). */
export function stderrTail(stderr: string, redactor: Redactor): string {
  const flat = redactor.text(stderr).replace(/\s+/g, ' ').trim();
  return flat.length > STDERR_SHOWN ? `…${flat.slice(-STDERR_SHOWN)}` : flat || '(no error output)';
}

/** Parses a tool's JSON output through a schema of the fields used; anything else is AKS_TOOL_OUTPUT_INVALID. */
export function parseToolJson<S extends z.ZodType>(schema: S, stdout: string, tool: string, action: string): z.output<S> {
  // the output itself is never quoted: it may hold values the chart or the state marks secret
  let raw: unknown;
  try {
    raw = JSON.parse(stdout);
  } catch {
    throw new AppError('AKS_TOOL_OUTPUT_INVALID', { tool, action, reason: `its ${stdout.length} characters are not JSON` });
  }
  const r = schema.safeParse(raw);
  if (!r.success) {
    const issues = r.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`);
    throw new AppError('AKS_TOOL_OUTPUT_INVALID', { tool, action, reason: `unexpected JSON (${issues.join('; ')})` });
  }
  return r.data;
}
