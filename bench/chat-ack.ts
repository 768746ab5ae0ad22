/**
 * Command acknowledgement latency: 100 concurrent signed /rocketchat/command requests (as the Rocket.Chat App sends
 * them) against the bot's HTTP server listening on 127.0.0.1, each answered in full (parse → validate → authorize →
 * run → audit in SQLite). Target: p99 < 250 ms.
 *
 *   npx tsx bench/chat-ack.ts [--concurrency 100] [--rounds 10] [--command "runs"] [--state file|memory]
 *
 * The bot runs in a child process (as in production, the load generator is not in the bot's event loop).
 * Not a test: nothing asserts; it prints p50/p90/p99/max per run and overall.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { signBody } from '../bot/chat/signing.js';
import { buildApp } from '../bot/server/app.js';
import { createLogger } from '../core/log/logger.js';
import { Redactor } from '../core/log/redact.js';
import { openSqliteStore } from '../core/store/sqlite.js';
import { testConfig, TEST_CONFIG_YAML } from '../test/helpers/deps.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

/** Child: the bot's HTTP server; prints its port, serves until stdin closes. */
async function serve(secret: string, state: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'aks-ack-'));
  const config = testConfig(`${TEST_CONFIG_YAML}
rocketchat: { url: "http://127.0.0.1:1", userId: bot, token: { env: X }, rooms: [ops], mode: app, rateLimitPerMinute: 100000 }
`);
  const redactor = new Redactor();
  const store = openSqliteStore({ path: state === 'memory' ? ':memory:' : join(dir, 'state.sqlite') });
  const deps = { config, store, log: createLogger({ level: 'warn', redactor }), redactor, now: () => new Date() };
  const app = buildApp({ deps, rocketchat: { secret } });
  await app.listen({ host: '127.0.0.1', port: 0 });
  process.stdout.write(`${(app.server.address() as AddressInfo).port}\n`);
  process.stdin.resume();
  await new Promise((r) => process.stdin.on('end', r));
  await app.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}

async function main(): Promise<void> {
  const concurrency = Number(arg('concurrency', '100'));
  const rounds = Number(arg('rounds', '10'));
  const command = arg('command', 'runs');
  const state = arg('state', 'file');
  const secret = randomBytes(24).toString('hex');
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, '--serve', secret, '--state', state], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())));
  const url = `http://127.0.0.1:${port}/rocketchat/command`;

  const one = async (): Promise<number> => {
    const body = JSON.stringify({ text: command, user: { username: 'carol' }, roomId: 'r1' });
    const ts = String(Math.floor(Date.now() / 1000));
    const nonce = randomBytes(16).toString('hex');
    const start = performance.now();
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-aks-timestamp': ts, 'x-aks-nonce': nonce, 'x-aks-signature': signBody(secret, ts, nonce, body) }, body });
    await res.text();
    if (res.status !== 200) throw new Error(`status ${res.status}`);
    return performance.now() - start;
  };

  await Promise.all(Array.from({ length: 20 }, one)); // warm-up: JIT, connection pool, SQLite pages
  const all: number[] = [];
  console.log(`${concurrency} concurrent signed "${command}" commands, ${rounds} rounds, state ${state}, node ${process.version}`);
  for (let r = 1; r <= rounds; r++) {
    const lat = (await Promise.all(Array.from({ length: concurrency }, one))).sort((a, b) => a - b);
    all.push(...lat);
    console.log(`round ${r}: p50 ${pct(lat, 50).toFixed(1)} ms  p90 ${pct(lat, 90).toFixed(1)} ms  p99 ${pct(lat, 99).toFixed(1)} ms  max ${lat[lat.length - 1]!.toFixed(1)} ms`);
  }
  all.sort((a, b) => a - b);
  console.log(`overall (${all.length} requests): p50 ${pct(all, 50).toFixed(1)} ms  p99 ${pct(all, 99).toFixed(1)} ms  (target p99 < 250 ms)`);
  child.stdin.end();
}

if (process.argv.includes('--serve')) await serve(arg('serve', ''), arg('state', 'file'));
else await main();
