/**
 * `@imbot/chat-adapter`: Chat SDK bots on Tencent Cloud Chat robots and RongCloud bots.
 *
 * @example
 * const bot = new Chat({
 *   userName: 'helper',
 *   adapters: { tencent: createImbotAdapter({ platform: im.platform, botId: '@RBT#helper' }) },
 *   state: createMemoryState(),
 * });
 */
import { type ImbotAdapterOptions, ImbotChatAdapter } from './adapter.js';

export {
  type ImbotAdapterOptions,
  ImbotChatAdapter,
  type ImbotRawMessage,
  type SentRaw,
} from './adapter.js';
export { ImbotFormatConverter } from './postable.js';
export type { ImbotThread } from './thread-id.js';

/**
 * A Chat SDK adapter for `platform`'s cloud, speaking as `botId`: its `name` is the cloud
 * (`'tencent'` or `'rongcloud'`), so the Chat SDK serves its webhook as `bot.webhooks.tencent`.
 * Every option is checked first (a `ValidationError` names the one that is wrong).
 */
export function createImbotAdapter(options: ImbotAdapterOptions): ImbotChatAdapter {
  return new ImbotChatAdapter(options);
}
