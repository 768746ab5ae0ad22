import type { CommandDeps } from '../../core/commands/types.js';
import { BotAdapter } from './bot-adapter.js';
import { Delivery, type LinkSettings } from '../chat/delivery.js';
import { ChatProgressReporter } from '../chat/progress.js';
import { RunLauncher } from '../../core/engine/launcher.js';
import { DdpClient } from './ddp.js';
import { RocketChatRest } from './rest.js';

export interface ChatWiring {
  readonly rest: RocketChatRest;
  readonly ddp: DdpClient;
  readonly delivery: Delivery;
  readonly launcher: RunLauncher;
  readonly adapter: BotAdapter;
}

export interface ChatWiringOptions {
  readonly url: string;
  readonly userId: string;
  /** The resolved personal access token (never logged). */
  readonly token: string;
  readonly rooms: readonly string[];
  readonly prefix: string;
  readonly graceMs: number;
  readonly progressIntervalMs: number;
  readonly backoff?: { initialMs: number; maxMs: number };
  /** Signed approval links in emails while chat is down. */
  readonly links?: LinkSettings;
}

/** Builds the bot-only chat side; call adapter.start() to connect. */
export function wireChat(deps: CommandDeps, o: ChatWiringOptions): ChatWiring {
  deps.redactor.add(o.token);
  const rest = new RocketChatRest({ url: o.url, userId: o.userId, token: o.token });
  const ddp = new DdpClient({ url: o.url, token: o.token, log: deps.log, ...(o.backoff ? { backoff: o.backoff } : {}) });
  const delivery = new Delivery(rest, deps, o.links);
  const rooms = o.rooms;
  // The launcher posts into the ops room, known once the adapter resolved the room names.
  const adapterRef: { adapter?: BotAdapter } = {};
  const reporter = new ChatProgressReporter(
    delivery,
    deps.store,
    {
      get roomId() {
        return adapterRef.adapter?.opsRoomId ?? '';
      },
    },
    deps.now,
  );
  const launcher = new RunLauncher({ deps, reporter, graceMs: o.graceMs, progressIntervalMs: o.progressIntervalMs });
  // Commands from chat run long work (backup run, drill) as background runs with a progress message in the ops room.
  const chatDeps = { ...deps, background: launcher.backgroundRuns(`#${rooms[0] ?? 'ops'}`) };
  const adapter = new BotAdapter({ deps: chatDeps, rest, ddp, delivery, launcher, rooms, prefix: o.prefix });
  adapterRef.adapter = adapter;
  return { rest, ddp, delivery, launcher, adapter };
}
