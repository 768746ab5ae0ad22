import { Writable } from 'node:stream';
import { createRegistry } from '../../core/commands/definitions.js';
import type { CommandDeps, CommandSpec } from '../../core/commands/types.js';
import { parseConfigText } from '../../core/config/load.js';
import type { Config } from '../../core/config/schema.js';
import { createLogger } from '../../core/log/logger.js';
import { Redactor } from '../../core/log/redact.js';
import { openSqliteStore } from '../../core/store/sqlite.js';

/** A config with two environments and one user per role; override with YAML text when a test needs more. */
export const TEST_CONFIG_YAML = `
bot: { defaultEnvironment: prod, cliUser: cli-admin }
access:
  roles: { admin: [alice, cli-admin], operator: [bob], viewer: [carol] }
environments:
  prod:
    azure: { subscriptionId: 11111111-2222-3333-4444-555555555555, location: westeurope, durableResourceGroup: rg-d, clusterResourceGroup: rg-c, clusterName: aks }
    credit: { monthlyUsd: 150 }
  staging:
    azure: { subscriptionId: 11111111-2222-3333-4444-555555555555, location: westeurope, durableResourceGroup: rg-sd, clusterResourceGroup: rg-sc, clusterName: aks-s }
    credit: { monthlyUsd: 50 }
    teardown: { unattended: true }
`;

export function testConfig(yaml = TEST_CONFIG_YAML): Config {
  return parseConfigText(yaml, 'test.yaml', {});
}

/** Collects log lines written as JSON, for assertions on what was (not) logged. */
export class MemoryStream extends Writable {
  readonly chunks: string[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.chunks.push(chunk.toString());
    cb();
  }
  get text(): string {
    return this.chunks.join('');
  }
}

export function testDeps(opts: { config?: Config; now?: Date; registry?: readonly CommandSpec[] } = {}): CommandDeps & { logs: MemoryStream } {
  const logs = new MemoryStream();
  const redactor = new Redactor();
  const now = opts.now ?? new Date('2026-11-26T12:00:00Z');
  return {
    config: opts.config ?? testConfig(),
    store: openSqliteStore({ path: ':memory:', clock: () => now }),
    log: createLogger({ level: 'debug', redactor, destination: logs }),
    redactor,
    now: () => now,
    registry: opts.registry ?? createRegistry(),
    logs,
  };
}

/** The email block several suites need so that alerts and approvals have somewhere to go. */
export const EMAIL_CONFIG_YAML = `email:
  smtp: { host: 127.0.0.1, port: 2525 }
  from: bot@example.org
  to: [ops@example.org]
`;

/** TEST_CONFIG_YAML plus an email fallback. */
export function testConfigWithEmail(): Config {
  return testConfig(`${TEST_CONFIG_YAML}\n${EMAIL_CONFIG_YAML}`);
}
