#!/usr/bin/env node
import { formatUserFacing, toUserFacing } from '../../core/errors/present.js';
import { createRegistry } from '../../core/commands/definitions.js';
import { execute } from '../../core/commands/dispatch.js';
import { createRuntime } from '../runtime.js';
import { buildProgram, CommanderError, type CliSelection } from './program.js';

/** aks-bot <command>: the same registry as /aks in chat, acting as the configured CLI user. */
async function main(argv: string[]): Promise<number> {
  let selection: CliSelection | undefined;
  const registry = createRegistry();
  const program = buildProgram(registry, (s) => {
    selection = s;
  });
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
      // commander printed what was wrong; point at the generated help
      process.stderr.write('Run "aks-bot help" for the commands, or "aks-bot <command> --help" for one.\n');
      return 2;
    }
    throw err;
  }
  if (!selection) {
    program.outputHelp();
    return 2;
  }
  const rt = await createRuntime({ registry, ...(selection.configPath ? { configPath: selection.configPath } : {}), logDestination: process.stderr as never, logLevel: process.env.AKS_BOT_CLI_LOG_LEVEL === 'debug' ? 'debug' : 'warn' });
  try {
    const reply = await execute(selection.tokens, { actor: rt.config.bot.cliUser, source: 'cli' }, rt);
    if (selection.json) process.stdout.write(`${JSON.stringify({ ok: reply.ok, code: reply.code, text: reply.text, data: reply.data }, null, 2)}\n`);
    else (reply.ok ? process.stdout : process.stderr).write(`${reply.text}\n`);
    return reply.exitCode;
  } finally {
    await rt.close();
  }
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`${formatUserFacing(toUserFacing(err))}\n`);
    process.exitCode = err instanceof Error && 'code' in err ? 2 : 1;
  },
);
