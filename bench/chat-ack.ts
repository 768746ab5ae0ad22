/**
 * Command acknowledgement latency: 100 concurrent signed /rocketchat/command requests (as the Rocket.Chat App sends
 * them) against the bot's HTTP server listening on 127.0.0.1, each answered in full (parse → validate → authorize →
 * run → audit in SQLite). Target: p99 < 250 ms.
 *
 *   npx tsx bench/chat-ack.ts [--concurrency 100] [--rounds 10] [--command "runs"] [--state file|memory]
 *                             [--audit group|each|both]
 *
 * --audit each commits every audit row in its own transaction (one fsync each, synchronous=FULL): the store before
 * group commit, kept switchable so before/after can be measured on the same machine; `both` runs a bot of each kind
 * and alternates the rounds between them, so on a shared machine both see the same background load.
 *
 * The bot runs in a child process (as in production, the load generator is not in the bot's event loop).
 * Not a test: nothing asserts; it prints p50/p90/p99/max per run and overall.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { signRequest } from '../bot/server/signing.js';
import { buildApp } from '../bot/server/app.js';
import { createRegistry } from '../core/commands/definitions.js';
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
async function serve(secret: string, state: string, audit: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'aks-ack-'));
  const config = testConfig(`${TEST_CONFIG_YAML}
rocketchat: { url: "http://127.0.0.1:1", userId: bot, token: { env: X }, rooms: [ops], mode: app, rateLimitPerMinute: 100000 }
`);
  const redactor = new Redactor();
  const store = openSqliteStore({ path: state === 'memory' ? ':memory:' : join(dir, 'state.sqlite'), auditGroupCommit: audit !== 'each' });
  const deps = { config, store, log: createLogger({ level: 'warn', redactor }), redactor, now: () => new Date(), registry: createRegistry() };
  const app = buildApp({ deps, rocketchat: { secret } });
  await app.listen({ host: '127.0.0.1', port: 0 });
  process.stdout.write(`${(app.server.address() as AddressInfo).port}\n`);
  process.stdin.resume();
  await new Promise((r) => process.stdin.on('end', r));
  await app.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}

/** One bot child per audit mode; its URL and a way to stop it. */
async function startBot(secret: string, state: string, audit: string): Promise<{ url: string; stop: () => void; cpuMs: () => number }> {
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, '--serve', secret, '--state', state, '--audit', audit], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())));
  return { url: `http://127.0.0.1:${port}/rocketchat/command`, stop: () => child.stdin.end(), cpuMs: () => cpuMsOf(child.pid) };
}

/**
 * CPU time (user + system) the bot process used so far, from /proc (Linux; NaN elsewhere): per command it does not
 * depend on what else runs on a shared machine, unlike the latencies. Clock ticks are 10 ms on Linux.
 */
function cpuMsOf(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

const summary = (lat: number[]) =>
  `p50 ${pct(lat, 50).toFixed(1)} ms  p90 ${pct(lat, 90).toFixed(1)} ms  p99 ${pct(lat, 99).toFixed(1)} ms  max ${lat[lat.length - 1]!.toFixed(1)} ms`;

async function main(): Promise<void> {
  const concurrency = Number(arg('concurrency', '100'));
  const rounds = Number(arg('rounds', '10'));
  const command = arg('command', 'runs');
  const state = arg('state', 'file');
  // "both": a bot per mode, rounds alternating between them, so on a shared machine both see the same load.
  const audit = arg('audit', 'group');
  const modes = audit === 'both' ? ['each', 'group'] : [audit];
  const secret = randomBytes(24).toString('hex');
  const bots = await Promise.all(modes.map((m) => startBot(secret, state, m)));

  const one = async (url: string): Promise<number> => {
    const body = JSON.stringify({ text: command, user: { username: 'carol' }, roomId: 'r1' });
    const ts = String(Math.floor(Date.now() / 1000));
    const nonce = randomBytes(16).toString('hex');
    const start = performance.now();
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-aks-timestamp': ts, 'x-aks-nonce': nonce, 'x-aks-signature': signRequest(secret, { method: 'POST', path: '/rocketchat/command', timestamp: ts, nonce, body }) }, body });
    await res.text();
    if (res.status !== 200) throw new Error(`status ${res.status}`);
    return performance.now() - start;
  };

  // warm-up, one full burst per bot: JIT, the client's pool of `concurrency` connections, SQLite pages
  for (const b of bots) await Promise.all(Array.from({ length: concurrency }, () => one(b.url)));
  const all = modes.map((): number[] => []);
  const cpu = modes.map(() => 0);
  console.log(`${concurrency} concurrent signed "${command}" commands, ${rounds} rounds, state ${state}, audit commit ${modes.join(' vs ')}, node ${process.version}`);
  for (let r = 1; r <= rounds; r++) {
    for (const [i, b] of bots.entries()) {
      const before = b.cpuMs();
      const lat = (await Promise.all(Array.from({ length: concurrency }, () => one(b.url)))).sort((x, y) => x - y);
      cpu[i]! += b.cpuMs() - before;
      all[i]!.push(...lat);
      console.log(`round ${r} ${modes[i]}: ${summary(lat)}`);
    }
  }
  for (const [i, m] of modes.entries()) {
    const lat = all[i]!.sort((x, y) => x - y);
    console.log(`overall ${m} (${lat.length} requests): ${summary(lat)}  bot CPU ${(cpu[i]! / lat.length).toFixed(2)} ms/command  (target p99 < 250 ms)`);
  }
  for (const b of bots) b.stop();
}

if (process.argv.includes('--serve')) await serve(arg('serve', ''), arg('state', 'file'), arg('audit', 'group'));
else await main();
