import { errorCatalog } from './catalog.js';

const cell = (s: string): string => s.replace(/\|/g, '\\|');

/** docs/errors.md, generated from the catalog; the catalog test fails when the file differs. */
export function renderErrorDocs(): string {
  const rows = Object.entries(errorCatalog).map(([code, spec]) => `| \`${code}\` | ${cell(spec.message)} | ${cell(spec.fix)} |`);
  return [
    '# Errors',
    '',
    'Every error the bot shows carries one of these codes, in chat, on the CLI (after the message, in brackets) and in',
    'email. Words in `{braces}` are filled in from the situation. A chat reply never shows a stack trace; unexpected',
    'errors show only a reference that points into the bot log.',
    '',
    'This file is generated from `core/errors/catalog.ts` by `npm run docs:errors`; a test fails when they differ.',
    '',
    '| Code | Message | How to fix |',
    '| --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
