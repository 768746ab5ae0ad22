import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startChat, type ChatService } from '../../../../bot/chat/start.js';
import { execute } from '../../../../core/commands/dispatch.js';
import type { CommandDeps } from '../../../../core/commands/types.js';
import { openSqliteStore } from '../../../../core/store/sqlite.js';
import { testConfig, testDeps } from '../../../helpers/deps.js';
import { FakeRocketChat } from '../../../fakes/rocketchat/server.js';
import { useSandbox } from '../../../sandbox/use.js';
import { CHAT_CONFIG_YAML, specsWithTeardown, until } from './builders.js';

// A destructive command from the CLI is another process: it records the run and its approval in the shared state
// file and exits. The bot's pending-prompt poller finds the approval nobody announced and posts its prompt in the
// ops room — once, however many passes or bots — or, while Rocket.Chat is down, emails the approvers signed links.
// Here the "CLI" is a second connection to the same SQLite file, as the CLI process would open it.

interface MailSummary { id: string; subject: string; to: { address: string }[] }

let smtp: Record<string, string>;
beforeAll(async () => {
  smtp = (await useSandbox(['smtp'])).smtp;
});

let rc: FakeRocketChat | undefined;
let svc: ChatService | undefined;
let dirs: string[] = [];
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await svc?.stop();
  await rc?.close();
  if (rc) expect(rc.violations).toEqual([]);
  for (const c of closers.splice(0)) await c();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
  rc = undefined;
  svc = undefined;
});

/** Bot and CLI: two store connections to one state file, the same configuration. */
function twoProcesses(yaml: string): { bot: CommandDeps & { logs: { text: string } }; cli: CommandDeps } {
  const dir = mkdtempSync(join(tmpdir(), 'aks-cli-prompt-'));
  dirs.push(dir);
  const path = join(dir, 'state.sqlite');
  const config = testConfig(yaml);
  const botStore = openSqliteStore({ path });
  const cliStore = openSqliteStore({ path });
  closers.push(() => botStore.close(), () => cliStore.close());
  const base = testDeps({ config });
  return { bot: { ...base, store: botStore, now: () => new Date() }, cli: { ...testDeps({ config }), store: cliStore, now: () => new Date() } };
}

const cli = { actor: 'alice', source: 'cli' } as const;

describe('prompts of approvals requested from the CLI', () => {
  it('posts the prompt in the ops room once; an approver reacts and the run starts', async () => {
    rc = new FakeRocketChat();
    await rc.start();
    const bot = rc.addUser('aks-bot', { roles: ['bot'] });
    for (const u of ['alice', 'erin']) rc.addUser(u);
    const room = rc.addRoom('ops');
    const { bot: botDeps, cli: cliDeps } = twoProcesses(`${CHAT_CONFIG_YAML}
rocketchat: { url: "${rc.url}", userId: ${bot.user._id}, token: { env: RC_TOKEN }, rooms: [ops], approvalGraceSeconds: 0, progressIntervalSeconds: 1 }
`);
    const calls: string[] = [];
    const specs = specsWithTeardown(calls);
    svc = await startChat({ ...botDeps, registry: specs }, { env: { RC_TOKEN: bot.token }, promptPollMs: 30, promptGraceMs: 0 });
    await svc.wiring!.ddp.ready();

    const asked = await execute('teardown --env prod --reason "credit ends"', cli, { ...cliDeps, registry: specs });
    const runId = (asked.data as { awaitingApproval: { runId: number } }).awaitingApproval.runId;
    const prompts = () => rc!.inRoom(room._id).filter((m) => m.msg.startsWith(`:warning: Approval needed for run ${runId}:`));
    await until(() => prompts().length > 0);
    await svc.prompts.poll(); // joins the pass that posted it, if it is still reacting to its prompt
    // More passes post nothing more.
    expect(await svc.prompts.poll()).toBe(0);
    await new Promise((r) => setTimeout(r, 100));
    expect(prompts()).toHaveLength(1);
    expect(prompts()[0]!.msg).toContain('Requested by @alice');
    expect(await botDeps.store.getApprovalPrompt(1)).toMatchObject({ via: 'chat', messageId: prompts()[0]!._id });

    rc.react('erin', prompts()[0]!._id, 'white_check_mark');
    await until(async () => (await botDeps.store.getRun(runId))?.status === 'succeeded');
    await svc.launcher.idle();
    expect(calls).toEqual(['teardown prod by alice (credit ends)']);
  });

  it('emails the approvers signed links while Rocket.Chat is down, and does not post the prompt when chat is back', async () => {
    const tag = `t${Date.now()}`;
    rc = new FakeRocketChat();
    await rc.start();
    const bot = rc.addUser('aks-bot', { roles: ['bot'] });
    const room = rc.addRoom('ops');
    const url = rc.url;
    await rc.stop();
    const { bot: botDeps, cli: cliDeps } = twoProcesses(`${CHAT_CONFIG_YAML.replace('cliUser: cli-admin }', 'cliUser: cli-admin, publicUrl: "http://bot.test" }')}
rocketchat: { url: "${url}", userId: ${bot.user._id}, token: { env: RC_TOKEN }, rooms: [ops] }
email:
  smtp: { host: ${smtp.host}, port: ${smtp.port}, user: ${smtp.user}, password: { env: SMTP_PASSWORD } }
  from: aks-bot@example.test
  to: [ops-${tag}@example.test]
  approvers: { erin: erin-${tag}@example.test, alice: alice-${tag}@example.test }
  linkSecret: { env: LINK_SECRET }
`);
    const specs = specsWithTeardown([]);
    svc = await startChat({ ...botDeps, registry: specs }, { env: { RC_TOKEN: bot.token, SMTP_PASSWORD: smtp.password!, LINK_SECRET: 'link-secret-for-tests' }, promptPollMs: 30, promptGraceMs: 0, mailMs: 30 });

    const asked = await execute('teardown --env prod', cli, { ...cliDeps, registry: specs });
    const runId = (asked.data as { awaitingApproval: { runId: number } }).awaitingApproval.runId;
    const mailsTo = async (address: string) =>
      ((await (await fetch(`${smtp.apiUrl}/messages`)).json()) as MailSummary[]).filter((m) => m.to.some((t) => t.address === address) && m.subject.includes(`run ${runId}`));
    await until(async () => (await mailsTo(`erin-${tag}@example.test`)).length > 0, 10_000);
    // The approver got personal signed links (the requester, alice, none: the two-person rule is on).
    expect(await mailsTo(`alice-${tag}@example.test`)).toHaveLength(0);
    const detail = (await (await fetch(`${smtp.apiUrl}/messages/${(await mailsTo(`erin-${tag}@example.test`))[0]!.id}`)).json()) as { text: string };
    expect(detail.text).toMatch(/Approve: http:\/\/bot\.test\/approvals\/email\?token=\S+/);
    expect(await botDeps.store.getApprovalPrompt(1)).toMatchObject({ via: 'email', messageId: null });

    await rc.start();
    await new Promise((r) => setTimeout(r, 200));
    expect(await svc.prompts.poll()).toBe(0);
    expect(rc.inRoom(room._id)).toHaveLength(0);
    expect(await mailsTo(`erin-${tag}@example.test`)).toHaveLength(1);
  });
});
