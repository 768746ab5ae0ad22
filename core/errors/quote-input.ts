/** How much of a user's input a reply repeats: enough to recognise it, too little to flood a channel. */
export const QUOTED_INPUT_MAX = 80;

/**
 * Characters that Rocket.Chat reads as markup or mentions (bold, italic, strike, code, links, `<url|text>`,
 * `@all`/`@here`/`@user`, `#channel`, `:emoji:` and URL schemes, spoilers, KaTeX), plus the double quote that
 * delimits a quoted input in our own messages. Rocket.Chat's message parser has no backslash escape, so a
 * backslash would show and the markup would still apply; a look-alike character shows the same to the reader
 * and is neither markup nor a mention for the parser, the mention notifier or an email client.
 */
const LOOKALIKE: Readonly<Record<string, string>> = {
  '@': '＠',
  '#': '＃',
  '*': '＊',
  _: '＿',
  '~': '～',
  '`': 'ˋ',
  '[': '［',
  ']': '］',
  '<': '‹',
  '>': '›',
  '|': '｜',
  ':': '：',
  $: '＄',
  '\\': '＼',
  '&': '＆',
  '"': '＂',
};
const MARKUP = /[@#*_~`[\]<>|:$\\&"]/g;

/**
 * Control, format (zero-width, bidirectional overrides), line and paragraph separators, private-use characters and
 * lone surrogates: they can break a reply's lines, reorder what the reader sees or hide text.
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}\p{Zl}\p{Zp}]/gu;

/**
 * The one way a reply repeats what a user typed: at most `max` characters (the last one an ellipsis when cut),
 * invisible characters shown as U+FFFD, and markup and mentions made inert. The caller adds the quotes around it.
 * Apply it where an error or reply is built, so every adapter (chat, App, CLI, email) gets the same safe text.
 */
export function quoteInput(input: string, max = QUOTED_INPUT_MAX): string {
  const chars = Array.from(input.replace(INVISIBLE, '\uFFFD'));
  const bounded = chars.length > max ? `${chars.slice(0, Math.max(0, max - 1)).join('')}…` : chars.join('');
  return bounded.replace(MARKUP, (c) => LOOKALIKE[c] ?? c);
}

/** Several inputs, each quoted, the list itself bounded: `"a", "b", "c" and 97 more`. */
export function quoteInputs(inputs: readonly string[], shown = 3): string {
  const list = inputs.slice(0, shown).map((i) => `"${quoteInput(i)}"`).join(', ');
  return inputs.length > shown ? `${list} and ${inputs.length - shown} more` : list;
}
