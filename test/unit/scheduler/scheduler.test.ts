import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { runSchedule, startScheduler, validateSchedules } from '../../../scheduler/scheduler.js';
import { execute, type Reply } from '../../../bot/commands/dispatch.js';
import { TEST_CONFIG_YAML, testConfig, testDeps } from '../../helpers/deps.js';
import { CHAT_CONFIG_YAML, specsWithTeardown } from '../../integration/chat/builders.js';

const withSchedules = (yaml: string) => testConfig(`${TEST_CONFIG_YAML}\nschedules:\n${yaml}`);

describe('scheduler', () => {
  it('refuses at boot a schedule whose command would not parse or validate', () => {
    const config = withSchedules(`  - { name: typo, cron: "0 2 * * *", command: "backup runn --env prod" }\n  - { name: env, cron: "0 3 * * *", command: "backup run --env qa" }`);
    expect(() => validateSchedules(config)).toThrow(/schedules\.0\.command \("backup runn --env prod"\).*Unknown command.*schedules\.1\.command.*no environment "qa"/);
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
      const reply = await runSchedule(nightly, deps, { specs, onReply: (r, s) => void seen.push({ reply: r, name: s.name }) });
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatchObject({ name: 'nightly', reply: { ok: true, data: { awaitingApproval: { plan: ['back up prod', 'destroy the cluster layer'] } } } });
      expect(seen[0]!.reply).toBe(reply);
      const [run] = await deps.store.listRuns();
      expect(run).toMatchObject({ status: 'awaiting-approval', source: 'scheduler', requestedBy: 'scheduler:nightly' });
    });

    it('a failing hook is logged and never breaks the schedule', async () => {
      const { deps, specs } = setup();
      const reply = await runSchedule(nightly, deps, {
        specs,
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
});
