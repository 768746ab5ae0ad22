import { AppError } from '../errors/app-error.js';
import type { ErrorCode } from '../errors/catalog.js';
import { formatUserFacing, toUserFacing } from '../errors/present.js';
import type { AuditResult } from '../store/types.js';
import { requestApproval } from '../engine/approvals.js';
import { runHandler } from '../engine/run-command.js';
import { authorize } from './authorize.js';
import { kebab } from './flags.js';
import { parseCommandText, parseTokens, resolveEnvironment, validateArgs, type ParsedCommand } from './parse.js';
import { commandKey } from './registry.js';
import type { CommandDeps, Invocation } from './types.js';

export interface Reply {
  readonly ok: boolean;
  readonly text: string;
  readonly code?: string;
  /** For the CLI: 0 done, 1 failed, 2 bad input, 3 not available, 4 not allowed. */
  readonly exitCode: 0 | 1 | 2 | 3 | 4;
  readonly data?: unknown;
}

/** Whether the reply is an approval prompt: the command waits for a decision instead of having run. */
export function awaitsApproval(reply: Reply): boolean {
  return typeof reply.data === 'object' && reply.data !== null && 'awaitingApproval' in reply.data;
}

const EXIT_BY_CODE: Partial<Record<ErrorCode, Reply['exitCode']>> = {
  AKS_UNKNOWN_COMMAND: 2,
  AKS_INVALID_ARGUMENTS: 2,
  AKS_UNKNOWN_ENVIRONMENT: 2,
  AKS_NOT_AVAILABLE: 3,
  AKS_APPROVAL_REQUIRED: 3,
  AKS_FORBIDDEN: 4,
  AKS_APPROVER_FORBIDDEN: 4,
  AKS_APPROVAL_SELF: 4,
  AKS_APPROVAL_NOT_FOUND: 2,
  AKS_APPROVAL_EXPIRED: 2,
};

const AUDIT_BY_EXIT: Record<Reply['exitCode'], AuditResult> = { 0: 'ok', 1: 'failed', 2: 'invalid', 3: 'unavailable', 4: 'denied' };

/**
 * Parse → validate → authorize → run, the same for every source. A command whose handler has not landed answers
 * "not available yet" once its arguments are well-formed. Every attempt lands in the audit log, including
 * the refused ones; a refused or unavailable command changes nothing else.
 */
export async function execute(
  input: string | readonly string[],
  invocation: Invocation,
  deps: CommandDeps,
): Promise<Reply> {
  const specs = deps.registry;
  const typed = typeof input === 'string' ? input.trim() : input.join(' ');
  let auditCommand = deps.redactor.text(typed).slice(0, 500);
  let environment: string | undefined;
  let reply: Reply;
  try {
    const parsed: ParsedCommand = typeof input === 'string' ? parseCommandText(input, specs) : parseTokens(input, specs);
    auditCommand = describeInvocation(parsed, deps.redactor.text.bind(deps.redactor));
    const { spec } = parsed;
    const args = validateArgs(parsed);
    // A command that cannot run says so before anything else is looked up: nothing it names is used.
    if (!spec.handler) {
      throw new AppError('AKS_NOT_AVAILABLE', { command: commandKey(spec), reason: spec.unavailable ?? 'no handler' });
    }
    environment = resolveEnvironment(spec, args, deps.config);
    authorize(spec, invocation, deps.config);
    const ctx = { ...deps, invocation, environment };
    if (spec.destructive && args.dryRun === true) {
      if (!spec.plan) throw new AppError('AKS_NOT_AVAILABLE', { command: `${commandKey(spec)} --dry-run`, reason: 'it has no plan yet' });
      const steps = await spec.plan(args, ctx);
      reply = { ok: true, exitCode: 0, text: [`Plan for ${commandKey(spec)} on ${environment ?? 'all environments'} (dry run, nothing changed):`, ...steps.map((s, i) => `${i + 1}. ${s}`)].join('\n'), data: { plan: steps } };
    } else if (spec.destructive && !(environment && (deps.config.environments[environment]?.teardown.unattended || spec.unattended?.(ctx)))) {
      // Approval: the run waits, with its plan, for a decision; the chat side posts the prompt from `data`.
      if (!spec.plan || !environment) throw new AppError('AKS_APPROVAL_REQUIRED', { command: commandKey(spec) });
      const steps = await spec.plan(args, ctx);
      const { run, approval } = await requestApproval(spec, args, environment, invocation, steps, deps);
      // The adapters ask the approvers in their own way (reactions, buttons, signed links): this text is what the
      // requester reads.
      const text = [
        `Run ${run.id} (${commandKey(spec)} on ${environment}) waits for ${deps.config.access.approvalsRequired === 2 ? '2 approvals by different people' : 'an approval by someone'} with the ${String(spec.role)} role${deps.config.access.twoPersonRule ? ' other than the requester' : ''}, until ${approval.expiresAt.toISOString().replace('.000Z', 'Z')}.`,
        'Plan:',
        approval.plan,
        `Decide with "approve ${run.id}" or "deny ${run.id}".`,
      ].join('\n');
      reply = { ok: true, exitCode: 0, text, data: { awaitingApproval: { runId: run.id, approvalId: approval.id, expiresAt: approval.expiresAt.toISOString(), plan: steps } } };
    } else {
      const out = await runHandler(spec, args, deps, { invocation, environment });
      reply = { ok: true, exitCode: 0, text: out.text, data: out.data };
    }
  } catch (err) {
    const shown = toUserFacing(err, deps.log);
    const exitCode = err instanceof AppError ? (EXIT_BY_CODE[err.code] ?? 1) : 1;
    reply = { ok: false, exitCode, code: shown.code, text: deps.redactor.text(formatUserFacing(shown)) };
  }
  await deps.store.appendAudit({
    actor: invocation.actor,
    source: invocation.source,
    command: auditCommand,
    environment: environment ?? null,
    result: AUDIT_BY_EXIT[reply.exitCode],
    detail: reply.code ?? null,
  });
  deps.log.info({ actor: invocation.actor, source: invocation.source, command: auditCommand, environment, result: AUDIT_BY_EXIT[reply.exitCode], code: reply.code }, 'command');
  return reply;
}

/** A normalised, redacted rendering of what was asked: "backup verify --env prod --backup x". */
function describeInvocation(parsed: ParsedCommand, redact: (s: string) => string): string {
  const parts = [commandKey(parsed.spec)];
  for (const [key, value] of Object.entries(parsed.raw)) {
    if (value === false || value === undefined) continue;
    parts.push(value === true ? `--${kebab(key)}` : `--${kebab(key)}=${JSON.stringify(String(value))}`);
  }
  return redact(parts.join(' ')).slice(0, 500);
}
