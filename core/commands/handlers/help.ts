import { commandSpecs } from '../definitions.js';
import { commandHelp, findCommand, overviewHelp, subcommandsOf } from '../registry.js';
import { AppError } from '../../errors/app-error.js';
import type { CommandContext, CommandOutput } from '../types.js';

/** Generated from the registry, so chat help and CLI help cannot disagree with what the commands accept. */
export async function helpHandler(args: Record<string, unknown>, ctx: CommandContext): Promise<CommandOutput> {
  const prefix = ctx.invocation.source === 'cli' ? 'aks-bot ' : '/aks ';
  const name = args.command as string | undefined;
  const sub = args.sub as string | undefined;
  if (!name) return { text: overviewHelp(prefix), data: { commands: commandSpecs.map((s) => ({ name: s.name, sub: s.sub, summary: s.summary })) } };
  const subs = subcommandsOf(name);
  const plain = findCommand(name, undefined);
  if (subs.length && (!sub || (plain && !findCommand(name, sub)))) return { text: [...(plain ? [plain] : []), ...subs].map(commandHelp).join('\n\n') };
  const spec = findCommand(name, sub);
  if (!spec) throw new AppError('AKS_UNKNOWN_COMMAND', { command: [name, sub].filter(Boolean).join(' ') }, { help: overviewHelp(prefix) });
  return { text: commandHelp(spec) };
}
