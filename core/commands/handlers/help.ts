import { commandHelp, findCommand, overviewHelp, subcommandsOf } from '../registry.js';
import { AppError } from '../../errors/app-error.js';
import { quoteInput } from '../../errors/quote-input.js';
import type { CommandContext, CommandOutput } from '../types.js';

/** Generated from the registry, so chat help and CLI help cannot disagree with what the commands accept. */
export async function helpHandler(args: Record<string, unknown>, ctx: CommandContext): Promise<CommandOutput> {
  const prefix = ctx.invocation.source === 'cli' ? 'aks-bot ' : '/aks ';
  const name = args.command as string | undefined;
  const sub = args.sub as string | undefined;
  if (!name) return { text: overviewHelp(prefix, ctx.registry), data: { commands: ctx.registry.map((s) => ({ name: s.name, sub: s.sub, summary: s.summary })) } };
  const subs = subcommandsOf(name, ctx.registry);
  const plain = findCommand(name, undefined, ctx.registry);
  if (subs.length && (!sub || (plain && !findCommand(name, sub, ctx.registry)))) return { text: [...(plain ? [plain] : []), ...subs].map(commandHelp).join('\n\n') };
  const spec = findCommand(name, sub, ctx.registry);
  if (!spec) throw new AppError('AKS_UNKNOWN_COMMAND', { command: quoteInput([name, sub].filter(Boolean).join(' ')) }, { help: overviewHelp(prefix, ctx.registry) });
  return { text: commandHelp(spec) };
}
