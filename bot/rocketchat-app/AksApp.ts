import type { IAppAccessors, IConfigurationExtend, IHttp, ILogger, IModify, IPersistence, IRead } from '@rocket.chat/apps-engine/definition/accessors';
import { App } from '@rocket.chat/apps-engine/definition/App';
import type { IMessageReactionContext, IPostMessageReacted } from '@rocket.chat/apps-engine/definition/messages';
import type { IAppInfo } from '@rocket.chat/apps-engine/definition/metadata';
import type { IRoom } from '@rocket.chat/apps-engine/definition/rooms';
import { SettingType } from '@rocket.chat/apps-engine/definition/settings';
import type { ISlashCommand, SlashCommandContext } from '@rocket.chat/apps-engine/definition/slashcommands';
import type { IUIKitResponse, UIKitBlockInteractionContext } from '@rocket.chat/apps-engine/definition/uikit';
import type { IUser } from '@rocket.chat/apps-engine/definition/users';
import { SETTINGS, handleButton, handleReaction, handleSlashCommand, type HttpPoster, type UserNotifier } from './src/logic';

// The /aks App: registration and wiring only. Every decision lives in src/logic.ts, which the
// bot's test suite checks with small fakes of these accessors.

function notifierFor(modify: IModify, sender: IUser, room: IRoom, appUser: IUser | undefined): UserNotifier {
  return {
    notify: async (text) => {
      const builder = modify.getCreator().startMessage().setRoom(room).setText(text);
      if (appUser) builder.setSender(appUser);
      await modify.getNotifier().notifyUser(sender, builder.getMessage());
    },
  };
}

function poster(http: IHttp): HttpPoster {
  return { post: async (url, options) => http.post(url, options) };
}

class AksCommand implements ISlashCommand {
  command = 'aks';
  i18nParamsExample = 'backup run --env prod';
  i18nDescription = 'Run an aks-lifecycle-bot command (help lists them)';
  providesPreview = false;

  constructor(private readonly app: AksApp) {}

  async executor(context: SlashCommandContext, read: IRead, modify: IModify, http: IHttp): Promise<void> {
    const sender = context.getSender();
    const room = context.getRoom();
    const threadId = context.getThreadId();
    await handleSlashCommand(
      { args: context.getArguments(), sender: { username: sender.username, roles: sender.roles }, roomId: room.id, ...(threadId ? { threadId } : {}) },
      { settings: read.getEnvironmentReader().getSettings(), http: poster(http), notifier: notifierFor(modify, sender, room, await read.getUserReader().getAppUser()), log: this.app.getLogger(), now: () => new Date() },
    );
  }
}

export class AksApp extends App implements IPostMessageReacted {
  constructor(info: IAppInfo, logger: ILogger, accessors: IAppAccessors) {
    super(info, logger, accessors);
  }

  async executePostMessageReacted(context: IMessageReactionContext, read: IRead, http: IHttp): Promise<void> {
    const botUsername = (await read.getUserReader().getAppUser())?.username ?? '';
    await handleReaction(
      { reaction: context.reaction, isReacted: context.isReacted, message: { text: context.message.text, sender: context.message.sender }, user: { username: context.user.username } },
      botUsername,
      { settings: read.getEnvironmentReader().getSettings(), http: poster(http), log: this.getLogger(), now: () => new Date() },
    );
  }

  async executeBlockActionHandler(context: UIKitBlockInteractionContext, read: IRead, http: IHttp, _persistence: IPersistence, modify: IModify): Promise<IUIKitResponse> {
    const data = context.getInteractionData();
    const room = data.room;
    const notifier: UserNotifier = room ? notifierFor(modify, data.user, room, await read.getUserReader().getAppUser()) : { notify: async () => undefined };
    await handleButton(
      { actionId: data.actionId, value: data.value, username: data.user.username },
      { settings: read.getEnvironmentReader().getSettings(), http: poster(http), notifier, log: this.getLogger(), now: () => new Date() },
    );
    return context.getInteractionResponder().successResponse();
  }

  protected async extendConfiguration(configuration: IConfigurationExtend): Promise<void> {
    await configuration.settings.provideSetting({ id: SETTINGS.botUrl, type: SettingType.STRING, packageValue: '', required: true, public: false, i18nLabel: 'Bot URL', i18nDescription: 'Base URL of the aks-lifecycle-bot, e.g. https://aks-bot.example.org' });
    await configuration.settings.provideSetting({ id: SETTINGS.secret, type: SettingType.PASSWORD, packageValue: '', required: true, public: false, i18nLabel: 'Shared secret', i18nDescription: 'HMAC-SHA256 key; the same value as rocketchat.appSecret in the bot configuration' });
    await configuration.settings.provideSetting({ id: SETTINGS.allowedRoles, type: SettingType.STRING, packageValue: 'admin,aks-operator', required: false, public: false, i18nLabel: 'Roles allowed to use /aks', i18nDescription: 'Comma-separated Rocket.Chat roles; the bot checks its own per-command roles as well' });
    await configuration.settings.provideSetting({ id: SETTINGS.opsRoom, type: SettingType.STRING, packageValue: 'ops', required: false, public: false, i18nLabel: 'Ops room', i18nDescription: 'Where the bot posts progress and approval prompts' });
    await configuration.slashCommands.provideSlashCommand(new AksCommand(this));
  }
}
