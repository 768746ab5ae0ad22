import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { repoRoot } from '../paths.js';
import { SandboxError } from '../errors.js';
import type { Component } from '../types.js';

const SERVER_SCRIPT = 'test/sandbox/servers/smtp-server.ts';

function installedVersion(pkg: string): string {
  const file = join(repoRoot, 'node_modules', pkg, 'package.json');
  if (!existsSync(file)) return 'not-installed';
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

/** True once the server greets with 220: the listener is up and the SMTP state machine answers. */
function smtpGreets(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    let buf = '';
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(2_000, () => done(false));
    sock.on('error', () => done(false));
    sock.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      if (buf.includes('\n')) {
        sock.write('QUIT\r\n');
        done(buf.startsWith('220'));
      }
    });
  });
}

/**
 * A real SMTP server process (npm smtp-server, run by test/sandbox/servers/smtp-server.ts) that requires AUTH
 * with a per-run user and password, keeps each message as a .eml file and serves the parsed mail as JSON so tests
 * can read what was delivered.
 */
export const smtp: Component = {
  name: 'smtp',
  // pinned by package-lock.json; read from what is installed so status and the cache key show the real one
  version: `smtp-server-${installedVersion('smtp-server')}`,
  description: 'SMTP server (npm smtp-server) with AUTH, storing .eml files, plus a JSON API over delivered mail',
  kind: 'service',
  buildInputs: [SERVER_SCRIPT],

  async build(ctx) {
    for (const pkg of ['smtp-server', 'mailparser', 'tsx']) {
      if (!existsSync(join(ctx.repoRoot, 'node_modules', pkg, 'package.json'))) {
        throw new SandboxError('smtp', `npm package ${pkg} is not installed; run npm ci`);
      }
    }
    ctx.log(`smtp-server ${installedVersion('smtp-server')}, mailparser ${installedVersion('mailparser')}`);
  },

  async start(ctx) {
    const host = '127.0.0.1';
    const port = await ctx.freePort();
    const apiPort = await ctx.freePort();
    const mailDir = join(ctx.runDir, 'mail');
    const user = 'sandbox-bot';
    const password = randomBytes(12).toString('base64url');
    const proc = await ctx.spawnService({
      name: 'smtp-server',
      command: process.execPath,
      // tsx is resolved from the repo, wherever the run folder is
      args: ['--import', 'tsx', join(ctx.repoRoot, SERVER_SCRIPT)],
      cwd: ctx.repoRoot,
      env: {
        SMTP_HOST: host,
        SMTP_PORT: String(port),
        SMTP_API_PORT: String(apiPort),
        SMTP_MAIL_DIR: mailDir,
        SMTP_USER: user,
        SMTP_PASSWORD: password,
      },
    });
    const apiUrl = `http://${host}:${apiPort}`;
    await ctx.waitFor(
      'SMTP greeting and mail API',
      async () => (await smtpGreets(host, port)) && (await fetch(`${apiUrl}/healthz`)).ok,
      { process: proc, timeoutMs: 30_000 },
    );
    return { host, port: String(port), user, password, apiUrl, mailDir };
  },

  probe: async (e) => (await fetch(`${e.apiUrl!}/healthz`, { signal: AbortSignal.timeout(5_000) })).ok,
};
