import { formatUserFacing, toUserFacing } from '../core/errors/present.js';
import { killAllChildren } from '../core/exec/process-group.js';
import { startScheduler } from '../scheduler/scheduler.js';
import { startWatch } from '../scheduler/watch.js';
import { startApprovedRunPoller } from '../core/engine/approved-poller.js';
import { startChat } from './chat/start.js';
import { createRuntime } from './runtime.js';
import { buildApp } from './server/app.js';

/**
 * The main job: load the configuration (embedded local one by default), open the state store, start the chat side
 * (Rocket.Chat and email, when configured), serve health, metrics and the chat endpoints, and run the configured
 * schedules through the command registry.
 */
async function main(): Promise<void> {
  const rt = await createRuntime({ configPath: process.argv[2] });
  // chat first: App-mode routes need its delivery and launcher; without rocketchat/email configured it is idle
  const chat = await startChat(rt);
  const app = buildApp({ deps: rt, rocketchat: chat.routes, budgetWebhook: { emergency: { onReply: (reply) => chat.announce(reply) } } });
  // runs approved outside this process (CLI "approve N", another bot) start here, through chat's launcher
  const poller = startApprovedRunPoller(rt, chat.launcher);
  // a scheduled destructive command waits for approval: its prompt goes to chat (or email) like a chat request's
  const scheduler = startScheduler(rt, { onReply: (reply) => chat.announce(reply) });
  // health/recovery every few minutes and the credit planner daily; their teardown/recreate requests prompt the same way
  const watch = startWatch(rt, { onReply: (reply) => chat.announce(reply) });
  const { host, port } = rt.config.bot.listen;
  const address = await app.listen({ host, port });
  rt.log.info(
    { address, config: rt.loaded.source, environments: Object.keys(rt.config.environments), schedules: rt.config.schedules.map((s) => s.name) },
    'aks-lifecycle-bot started',
  );
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    rt.log.info({ signal }, 'stopping');
    await scheduler.stop();
    await watch.stop();
    await poller.stop();
    // running work stops cleanly (tools killed, partial archive removed, the run failed with a code and reported)
    chat.launcher.abortRunning('the bot is stopping');
    await chat.stop();
    await killAllChildren();
    await app.close();
    await rt.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`aks-lifecycle-bot could not start:\n${formatUserFacing(toUserFacing(err))}\n`);
  if (!(err instanceof Error && 'code' in err)) process.stderr.write(`${String((err as Error)?.stack ?? err)}\n`);
  process.exit(1);
});
