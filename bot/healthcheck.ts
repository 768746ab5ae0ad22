import { loadConfigFile } from '../core/config/load.js';
import { configPathFrom } from './runtime.js';

/**
 * The container HEALTHCHECK: asks /healthz on the address the bot was configured to listen on, honouring the
 * same file and AKS_BOT__ overrides as the bot itself. Exit 0 healthy, 1 not.
 */
async function check(): Promise<number> {
  const { config } = loadConfigFile(configPathFrom({}));
  const { host, port } = config.bot.listen;
  const target = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const res = await fetch(`http://${target.includes(':') ? `[${target}]` : target}:${port}/healthz`, { signal: AbortSignal.timeout(3_000) });
  return res.ok ? 0 : 1;
}

check().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`healthcheck failed: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
