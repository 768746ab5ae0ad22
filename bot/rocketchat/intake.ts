/**
 * The command in a chat message, or undefined when the message is not for the bot: "aks backup run" (the
 * configured prefix as the first word) or a mention "@aks-bot backup run". Only the first line counts, so a
 * pasted log below a command is never parsed as arguments.
 */
export function extractCommand(text: string, prefix: string, botUsername: string): string | undefined {
  const first = text.split('\n', 1)[0]?.trim() ?? '';
  const words = first.split(/\s+/);
  const head = words[0]?.toLowerCase();
  if (!head) return undefined;
  if (head === prefix.toLowerCase() || head === `/${prefix.toLowerCase()}` || head === `@${botUsername.toLowerCase()}` || head === `@${botUsername.toLowerCase()}:`) {
    const rest = first.slice(words[0]!.length).trim();
    return rest.length ? rest : 'help';
  }
  return undefined;
}
