import { awaitsApproval, execute, type Reply } from '../core/commands/dispatch.js';
import type { CommandDeps, Source } from '../core/commands/types.js';
import type { CommandRequestOutcome } from '../core/recovery/tick.js';

export interface RequestHooks {
  /** The reply of every command the watch asks for: bot/main.ts posts approval prompts with it (chat.announce). */
  readonly onReply?: (reply: Reply) => Promise<void> | void;
}

/**
 * Asks for a command through the one registry, as `actor` from `source`: parse → validate → authorize →
 * approval or run, audited like a chat command. Tokens, not a text line, so a reason with quotes stays one value.
 */
export async function requestCommand(
  tokens: readonly string[],
  invocation: { readonly actor: string; readonly source: Source },
  deps: CommandDeps,
  hooks: RequestHooks = {},
): Promise<CommandRequestOutcome> {
  const reply = await execute(tokens, invocation, deps);
  try {
    await hooks.onReply?.(reply);
  } catch (err) {
    deps.log.error({ err: (err as Error).message, command: tokens.slice(0, 3).join(' ') }, 'reply of a requested command not delivered');
  }
  const awaitingApproval = awaitsApproval(reply);
  const shown = tokens.indexOf('--reason'); // the reason is in the audit log; announcements name the command
  return { command: (shown < 0 ? tokens : tokens.slice(0, shown)).join(' '), ok: reply.ok, code: reply.code, text: reply.text, awaitingApproval };
}
