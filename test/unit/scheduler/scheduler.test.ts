import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { runSchedule, startScheduler, validateSchedules } from '../../../scheduler/scheduler.js';
import { loadConfigFile } from '../../../core/config/load.js';
import { execute, type Reply } from '../../../core/commands/dispatch.js';
import { EMAIL_CONFIG_YAML, TEST_CONFIG_YAML, testConfig, testDeps } from '../../helpers/deps.js';
import { CHAT_CONFIG_YAML, specsWithTeardown } from '../../integration/bot/chat/builders.js';
import { createRegistry } from '../../../core/commands/definitions.js';

const withSchedules = (yaml: string) => testConfig(`${TEST_CONFIG_YAML}\nschedules:\n${yaml}`);
/** What every backup command requires of prod: storage, Key Vault, and the cluster for the in-pod executor. */
const PROD_BACKUP = '{ storageAccountUrl: "https://st.blob.core.windows.net", keyVaultUrl: "https://kv.vault.azure.net", executor: { kind: kubernetes } }\n    kubernetes: { kubeconfigPath: /etc/kc }';
/** TEST_CONFIG_YAML with prod's backup settings (and its kubernetes block, which PROD_BACKUP carries). */
const withProdBackup = (backup: string) => (backup ? TEST_CONFIG_YAML.replace('credit: { monthlyUsd: 150 }', `credit: { monthlyUsd: 150 }\n    backup: ${backup}`) : TEST_CONFIG_YAML);

describe('scheduler', () => {
  it('refuses at boot a schedule whose command would not parse or validate', () => {
    const config = withSchedules(`  - { name: typo, cron: "0 2 * * *", command: "backup runn --env prod" }\n  - { name: env, cron: "0 3 * * *", command: "backup run --env qa" }`);
    expect(() => validateSchedules(config, createRegistry())).toThrow(/schedules\.0\.command \("backup runn --env prod"\).*Unknown command.*schedules\.1\.command.*no environment "qa"/);
  });

  it('refuses at boot a schedule whose identity has no role for its command, naming the role to add', () => {
    const config = withSchedules(`  - { name: nightly, cron: "0 2 * * *", command: "backup run --env prod" }`);
    expect(() => validateSchedules(config, createRegistry())).toThrow(
      /schedules\.0 \("nightly"\): "scheduler:nightly" may not run "backup run", which needs the operator role; list "scheduler:nightly" under access\.roles\.operator/,
    );
    // (with the backup settings "backup run" requires: see the requirement cases below)
    const allowed = testConfig(`${withProdBackup(PROD_BACKUP).replace('operator: [bob]', 'operator: [bob, "scheduler:nightly"]')}\nschedules:\n  - { name: nightly, cron: "0 2 * * *", command: "backup run --env prod" }`);
    expect(() => validateSchedules(allowed, createRegistry())).not.toThrow();
  });

  describe('refuses at boot a schedule whose environment lacks what its command requires, naming the setting', () => {
    // the schedule's identity may run everything here: only the environment's settings are in question
    const config = (prodExtra: string, command: string, azure = '') =>
      testConfig(`${withProdBackup(prodExtra).replace('admin: [alice, cli-admin]', 'admin: [alice, cli-admin, "scheduler:nightly", "scheduler:other"]').replace('clusterName: aks }', `clusterName: aks${azure} }`)}
schedules:
  - { name: other, cron: "0 1 * * *", command: "runs --limit 1" }
  - { name: nightly, cron: "0 2 * * *", command: "${command}" }`);
    const check = (c: ReturnType<typeof config>) => () => validateSchedules(c, createRegistry());

    it.each([
      ['backup run without a Key Vault', PROD_BACKUP.replace('keyVaultUrl: "https://kv.vault.azure.net", ', ''), 'backup run --env prod', /environments\.prod\.backup\.keyVaultUrl is required by schedules\.1 \("nightly"\) for "backup run": the data keys are wrapped by a Key Vault key/],
      ['backup drill without storage', PROD_BACKUP.replace('storageAccountUrl: "https://st.blob.core.windows.net", ', ''), 'backup drill --env prod', /environments\.prod\.backup\.storageAccountUrl is required by schedules\.1 \("nightly"\) for "backup drill": the backup sets are stored in Blob \(or set backup\.storageConnectionString\)/],
      ['backup prune with the in-pod executor and no kubeconfig', PROD_BACKUP.replace(' }\n    kubernetes: { kubeconfigPath: /etc/kc }', ' }'), 'backup prune --env prod', /environments\.prod\.kubernetes\.kubeconfigPath is required by schedules\.1 \("nightly"\) for "backup prune": .*backup\.executor is kubernetes/],
    ])('%s', (_name, backup, command, pattern) => {
      expect(check(config(backup, command))).toThrow(pattern);
    });

    it('Key Vault and storage without Azure access (azure.credential none) name the credential', () => {
      expect(check(config(PROD_BACKUP, 'backup run --env prod', ', credential: none'))).toThrow(
        /environments\.prod\.azure\.credential is required by schedules\.1 \("nightly"\) for "backup run": it is none, so Key Vault cannot be reached/,
      );
    });

    it('cost and cost recommend without Azure access name the credential', () => {
      expect(check(config('', 'cost --env prod', ', credential: none'))).toThrow(/environments\.prod\.azure\.credential is required by schedules\.1 \("nightly"\) for "cost": it is none, so Azure Resource Manager cannot be reached/);
      expect(check(config('', 'cost recommend --env prod', ', credential: none'))).toThrow(/for "cost recommend"/);
    });

    it('a local executor needs no cluster; a complete environment passes; a command without requirements never fails on them', () => {
      expect(check(config(PROD_BACKUP.replace('{ kind: kubernetes }', '{ kind: local, uri: { env: MONGO_URI } }').replace('\n    kubernetes: { kubeconfigPath: /etc/kc }', ''), 'backup run --env prod'))).not.toThrow();
      expect(check(config(PROD_BACKUP, 'backup run --env prod'))).not.toThrow();
      expect(check(config('', 'status --env prod', ', credential: none'))).not.toThrow();
    });

    it('every missing setting of every schedule is listed in one error', () => {
      expect(check(config('', 'backup run --env prod'))).toThrow(/backup\.keyVaultUrl is required.*backup\.storageAccountUrl is required.*kubernetes\.kubeconfigPath is required/);
    });
  });

  it('every schedule of the documented example configuration may run its command', () => {
    const { config } = loadConfigFile('infrastructure/config/example.yaml', {});
    expect(config.schedules.length).toBeGreaterThan(3);
    expect(() => validateSchedules(config, createRegistry())).not.toThrow();
  });

  it('runs each schedule through the registry as the scheduler, audited like any other source', async () => {
    // the scheduler's identity needs a role like anyone else's
    const config = testConfig(`${TEST_CONFIG_YAML.replace('viewer: [carol]', 'viewer: [carol, "scheduler:every-second"]')}
schedules:
  - { name: every-second, cron: "* * * * * *", command: "runs --limit 1" }`);
    const deps = testDeps({ config });
    const scheduler = startScheduler(deps);
    try {
      for (let i = 0; i < 50; i++) {
        if ((await deps.store.listAudit({ limit: 1 })).length) break;
        await sleep(100);
      }
    } finally {
      await scheduler.stop();
    }
    const [entry] = await deps.store.listAudit({ limit: 1 });
    expect(entry).toMatchObject({ actor: 'scheduler:every-second', source: 'scheduler', command: 'runs --limit="1"', result: 'ok' });
  });

  it('lists schedules with their next run times', async () => {
    const deps = testDeps({ config: withSchedules(`  - { name: nightly, cron: "0 2 * * *", command: "backup run --env prod", timezone: Europe/Berlin }`) });
    const reply = await execute('schedule --next 2', { actor: 'carol', source: 'chat' }, deps);
    expect(reply.ok).toBe(true);
    const jobs = (reply.data as { jobs: { next: string[] }[] }).jobs;
    expect(jobs[0]!.next).toHaveLength(2);
    const [a, b] = jobs[0]!.next.map((d) => new Date(d).getTime());
    expect(b! - a!).toBe(24 * 3600 * 1000);
    expect(reply.text).toContain('nightly: "backup run --env prod"');
  });

  describe('the onReply hook (bot/main.ts wires it to the chat side\'s approval announcement)', () => {
    const nightly = { name: 'nightly', command: 'teardown --env prod --reason "night"' };
    const setup = () => {
      const config = testConfig(CHAT_CONFIG_YAML.replace('admin: [alice, erin]', 'admin: [alice, erin, "scheduler:nightly"]'));
      return { deps: testDeps({ config }), specs: specsWithTeardown([]) };
    };

    it('gets the reply of a scheduled destructive command that now waits for approval', async () => {
      const { deps, specs } = setup();
      const seen: { reply: Reply; name: string }[] = [];
      const reply = await runSchedule(nightly, { ...deps, registry: specs }, { onReply: (r, s) => void seen.push({ reply: r, name: s.name }) });
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatchObject({ name: 'nightly', reply: { ok: true, data: { awaitingApproval: { plan: ['back up prod', 'destroy the cluster layer'] } } } });
      expect(seen[0]!.reply).toBe(reply);
      const [run] = await deps.store.listRuns();
      expect(run).toMatchObject({ status: 'awaiting-approval', source: 'scheduler', requestedBy: 'scheduler:nightly' });
    });

    it('a failing hook is logged and never breaks the schedule', async () => {
      const { deps, specs } = setup();
      const reply = await runSchedule(nightly, { ...deps, registry: specs }, {
        onReply: async () => {
          throw new Error('chat exploded');
        },
      });
      expect(reply.ok).toBe(true);
      expect(deps.logs.text).toContain('scheduled command reply not delivered');
    });

    it('the cron task calls the hook too', async () => {
      const config = testConfig(`${TEST_CONFIG_YAML.replace('viewer: [carol]', 'viewer: [carol, "scheduler:every-second"]')}
schedules:
  - { name: every-second, cron: "* * * * * *", command: "runs --limit 1" }`);
      const deps = testDeps({ config });
      const replies: Reply[] = [];
      const scheduler = startScheduler(deps, { onReply: (r) => void replies.push(r) });
      try {
        for (let i = 0; i < 50 && !replies.length; i++) await sleep(100);
      } finally {
        await scheduler.stop();
      }
      expect(replies[0]).toMatchObject({ ok: true });
    });
  });

  describe('announcing what a scheduled run did (ops room, or email)', () => {
    const CHAT = 'rocketchat: { url: "http://127.0.0.1:9", userId: bot, token: { env: RC_TOKEN }, rooms: [ops] }';
    const config = (announce: string, extra = CHAT) =>
      testConfig(`${TEST_CONFIG_YAML.replace('viewer: [carol]', 'viewer: [carol, "scheduler:nightly-list"]')}
${extra}
schedules:
  - { name: nightly-list, cron: "0 2 * * *", command: "backup list --env prod"${announce ? `, announce: ${announce}` : ''} }`);
    const pending = async (deps: ReturnType<typeof testDeps>) => deps.store.claimDueNotifications(new Date(Date.now() + 3_600_000), 10);

    it('posts each outcome to the ops room by default, once per schedule and minute', async () => {
      const deps = testDeps({ config: config(''), now: new Date('2026-11-27T02:00:05Z') });
      const s = deps.config.schedules[0]!;
      expect(s.announce).toBe('always');
      const reply = await runSchedule(s, deps);
      await runSchedule(s, deps); // the same firing delivered twice
      const [n, ...more] = await pending(deps);
      expect(more).toEqual([]);
      expect(n).toMatchObject({ channel: 'rocketchat', recipient: 'ops', subject: '[aks-bot] scheduled nightly-list: ' + (reply.ok ? 'done' : 'failed') });
      expect(n!.body).toContain(`Scheduled "backup list --env prod" (nightly-list) ${reply.ok ? 'finished' : 'failed'}:\n${reply.text}`);
    });

    it('without chat the outcome goes to every email address', async () => {
      const deps = testDeps({ config: config('', EMAIL_CONFIG_YAML) });
      await runSchedule(deps.config.schedules[0]!, deps);
      expect((await pending(deps)).map((n) => [n.channel, n.recipient])).toEqual([['email', 'ops@example.org']]);
    });

    it('announce: failures stays quiet on success and posts a refusal; never posts nothing', async () => {
      const quiet = testDeps({ config: config('failures') });
      const ok = await runSchedule({ ...quiet.config.schedules[0]!, command: 'runs --limit 1' }, quiet);
      expect(ok.ok).toBe(true);
      expect(await pending(quiet)).toEqual([]);
      // a schedule whose identity has no role is refused: that is a failure the team must see
      const refused = await runSchedule({ ...quiet.config.schedules[0]!, name: 'no-role' }, quiet);
      expect(refused.ok).toBe(false);
      const [n] = await pending(quiet);
      expect(n!.body).toMatch(/^❌ Scheduled "backup list --env prod" \(no-role\) failed:\n/);
      expect(n!.subject).toBe('[aks-bot] scheduled no-role: failed');

      const never = testDeps({ config: config('never') });
      await runSchedule({ ...never.config.schedules[0]!, name: 'no-role' }, never);
      expect(await pending(never)).toEqual([]);
    });

    it('a destructive command waiting for approval is announced by its prompt only', async () => {
      const deps = testDeps({ config: testConfig(`${CHAT_CONFIG_YAML.replace('admin: [alice, erin]', 'admin: [alice, erin, "scheduler:nightly"]')}\n${CHAT}`) });
      const reply = await runSchedule({ name: 'nightly', command: 'teardown --env prod --reason "night"' }, { ...deps, registry: specsWithTeardown([]) });
      expect(reply.data).toMatchObject({ awaitingApproval: {} });
      expect(await pending(deps)).toEqual([]);
    });

    it('refuses an unknown announce mode in the configuration', () => {
      expect(() => config('sometimes')).toThrow(/schedules\.0\.announce/);
    });
  });
});
