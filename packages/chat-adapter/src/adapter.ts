import { AsyncLocalStorage } from 'node:async_hooks';
import {
  type AnswerSource,
  type BotPlatform,
  type BotProfile,
  type Conversation,
  type HistorySlice,
  ImbotError,
  type InboundAttachment,
  type InboundMessage,
  type ReceiveOptions,
  type Reply,
  type ReplyTarget,
  type StoredMessage,
  type StreamFinish,
  type TypingIndicator,
  ValidationError,
  WebhookPipeline,
} from '@imbot/core';
import {
  ensureBotsAtStartup,
  readLatestMessages,
  readTranscript,
  receiveFetchRequest,
} from '@imbot/core/receive';
import {
  type Adapter,
  type AdapterPostableMessage,
  type Attachment,
  type Author,
  type ChatInstance,
  type EmojiValue,
  type FetchOptions,
  type FetchResult,
  type FormattedContent,
  Message,
  NotImplementedError,
  type RawMessage,
  type StreamChunk,
  type ThreadInfo,
  type WebhookOptions,
} from 'chat';
import { cardOf, cardToRich, ImbotFormatConverter, openButtonAction, refuseUploads } from './postable.js';
import { decodeThreadId, encodeThreadId, type ImbotThread } from './thread-id.js';

/**
 * The options of `createImbotAdapter`: the receivers' own (`ReceiveOptions`: webhook checks,
 * `use` middleware, typing, stop words, concurrency, logging), the platform and the bot it speaks as.
 */
export interface ImbotAdapterOptions extends Omit<ReceiveOptions, 'inbox'> {
  /** The cloud: `new TencentIm(…).platform` or `new RongCloud(…).platform`. */
  platform: BotPlatform;
  /** The bot account the Chat SDK bot speaks as (`@RBT#…` on Tencent). */
  botId: string;
  /** Its profile, made to match at `initialize` (name, avatar, description). */
  bot?: BotProfile | undefined;
  /** The name the Chat SDK knows the bot by (`@name` mentions in text). Default: `bot.name`, else the bot id. */
  userName?: string | undefined;
  /**
   * `initialize` makes the bot exist and match (transient failures retried `retries` times, default
   * 8). `false` leaves the account alone. Default true.
   */
  ensure?: boolean | { retries?: number | undefined } | undefined;
}

/** What the adapter's messages carry as `raw`: a user's message as parsed, what the bot sent, or a message of history. */
export type ImbotRawMessage = InboundMessage | SentRaw | StoredMessage;

/** A message the bot sent through the adapter. */
export interface SentRaw {
  messageId: string;
  target: ReplyTarget;
  text: string;
  /** How a streamed message ended. */
  finish?: StreamFinish;
}

/** The handler turn a Chat SDK call runs in: replies in its thread go through its `Reply`. */
interface Turn {
  threadId: string;
  reply: Reply;
}

const turns = new AsyncLocalStorage<Turn>();
/** A typing signal started outside a handler stops by itself after this long. */
const LONE_TYPING_MS = 60_000;
/** How far back `forward` history and `fetchMessage` read. */
const FORWARD_READ_LIMIT = 1000;
const FETCH_ONE_READ_LIMIT = 500;

/**
 * A Chat SDK `Adapter` for Tencent Cloud Chat robots and RongCloud bots. Webhooks go through
 * imbot's one pipeline (signature, freshness, replay, de-duplication, the cloud answered first,
 * then one message at a time per conversation) and reach the Chat SDK's handlers; `thread.post` of
 * a stream is an imbot stream session (the cloud's native streaming under the shared fair budget);
 * card buttons are signed by the platform and checked by the pipeline, as in every entry.
 */
export class ImbotChatAdapter implements Adapter<ImbotThread, ImbotRawMessage> {
  readonly name: string;
  readonly userName: string;
  readonly botUserId: string;
  /**
   * Where the cloud offers no history a bot can read (RongCloud) and no `transcript` store is
   * given, the Chat SDK keeps the history in its state.
   */
  readonly persistThreadHistory: boolean;
  /**
   * Set with a `stops` channel: a stop reaching any replica aborts the turn where it runs, so the
   * Chat SDK publishes its turns for cancellation across processes too.
   */
  readonly supportsTurnCancellation: boolean;
  readonly platform: BotPlatform;
  readonly pipeline: WebhookPipeline;
  readonly #options: ImbotAdapterOptions;
  readonly #converter = new ImbotFormatConverter();
  /** Typing signals started outside a handler, by thread: each stops by itself after a minute. */
  readonly #loneTyping = new Map<string, TypingIndicator>();
  #chat: ChatInstance | undefined;
  #ready = false;

  /** Checks every option (a `ValidationError` names the one that is wrong); nothing is sent. */
  constructor(options: ImbotAdapterOptions) {
    const { botId, bot, userName, ensure, ...receiveOptions } = options;
    const retries = typeof ensure === 'object' && ensure !== null ? ensure.retries : undefined;
    if (
      !(ensure === undefined || typeof ensure === 'boolean' || typeof ensure === 'object') ||
      ensure === null ||
      (retries !== undefined && !(Number.isInteger(retries) && retries >= 0))
    ) {
      throw new ValidationError('ensure', 'ensure: must be true, false or { retries: a whole number ≥ 0 }');
    }
    if ('inbox' in options && options.inbox !== undefined) {
      throw new ValidationError(
        'inbox',
        "inbox: the Chat SDK's handlers come with each request, so an inbox cannot be used",
      );
    }
    this.pipeline = new WebhookPipeline({ ...receiveOptions, bots: [botId] });
    this.platform = options.platform;
    this.name = this.platform.name;
    this.botUserId = this.platform.validateBotSpec({ userId: botId, ...bot }, 0).userId;
    this.userName = userName ?? bot?.name ?? botId;
    this.persistThreadHistory = this.platform.readHistory === undefined && options.transcript === undefined;
    this.supportsTurnCancellation = options.stops !== undefined;
    this.#options = options;
  }

  /** Keeps the Chat instance and makes the bot account exist and match (unless `ensure: false`). */
  async initialize(chat: ChatInstance): Promise<void> {
    this.#chat = chat;
    const ensure = this.#options.ensure ?? true;
    if (ensure !== false) {
      await ensureBotsAtStartup(this.platform, [{ ...this.#options.bot, userId: this.botUserId }], {
        retries: ensure === true ? undefined : ensure.retries,
      });
    }
    this.#ready = true;
  }

  /** Stops taking webhooks and lets running answers finish (up to 10 s). */
  async disconnect(): Promise<void> {
    for (const indicator of this.#loneTyping.values()) indicator.stop();
    this.#loneTyping.clear();
    await this.pipeline.close();
  }

  encodeThreadId(thread: ImbotThread): string {
    return encodeThreadId(this.name, thread);
  }

  decodeThreadId(threadId: string): ImbotThread {
    return decodeThreadId(this.name, threadId);
  }

  /** Each conversation (a one-to-one chat, a group) is one channel with one thread. */
  channelIdFromThreadId(threadId: string): string {
    this.decodeThreadId(threadId);
    return threadId;
  }

  isDM(threadId: string): boolean {
    return this.decodeThreadId(threadId).type === 'dm';
  }

  async openDM(userId: string): Promise<string> {
    if (typeof userId !== 'string' || userId === '')
      throw new ValidationError('userId', 'userId: must not be empty');
    return this.encodeThreadId({ type: 'dm', userId });
  }

  async fetchThread(threadId: string): Promise<ThreadInfo> {
    const thread = this.decodeThreadId(threadId);
    return { id: threadId, channelId: threadId, isDM: thread.type === 'dm', metadata: { ...thread } };
  }

  /**
   * A webhook from the cloud: verified, de-duplicated and answered at once by imbot's pipeline; its
   * messages reach the Chat SDK afterwards (kept alive through `options.waitUntil`). GET is a
   * health check: 200 once the bot is ensured.
   */
  handleWebhook(request: Request, options?: WebhookOptions): Promise<Response> {
    return receiveFetchRequest(this.pipeline, request, {
      health: () => {
        const ready = this.#ready && !this.pipeline.closing;
        return {
          status: ready ? 200 : 503,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ status: ready ? 'ready' : 'starting' }),
        };
      },
      onMessage: (message, reply) => this.#dispatch(message, reply, options),
      waitUntil: options?.waitUntil,
    });
  }

  /**
   * A message as the Chat SDK's `Message`: a user's (text without the bot's mention, author,
   * mention, attachments), one of history, or one the bot sent.
   */
  parseMessage(raw: ImbotRawMessage): Message<ImbotRawMessage> {
    const common = (
      id: string,
      threadId: string,
      from: string,
      dateSent: Date,
      attachments: Attachment[],
    ) => ({
      id,
      threadId,
      text: raw.text,
      formatted: this.#converter.toAst(raw.text),
      raw,
      author: this.#author(from),
      metadata: { dateSent, edited: false },
      attachments,
    });
    if ('time' in raw && 'messageId' in raw) {
      const threadId = this.#threadIdOfConversation(raw.conversation);
      return new Message(
        common(raw.messageId, threadId, raw.from, raw.time, raw.attachments.flatMap(toAttachment)),
      );
    }
    if (!('messageKey' in raw)) {
      const threadId = this.#threadIdOfTarget(raw.target);
      return new Message(common(raw.messageId, threadId, this.botUserId, new Date(), []));
    }
    const fields = common(
      raw.messageKey,
      this.#threadIdOf(raw),
      raw.from,
      raw.time,
      raw.attachments.flatMap(toAttachment),
    );
    // The cloud says whom a group message mentions; a one-to-one message is always to the bot.
    if (raw.conversation.type === 'group')
      return new Message({ ...fields, isMention: raw.mentions.includes(this.botUserId) });
    return new Message(fields);
  }

  async postMessage(threadId: string, message: AdapterPostableMessage): Promise<RawMessage<ImbotRawMessage>> {
    const target = this.#targetOf(threadId);
    const reply = this.#replyIn(threadId);
    refuseUploads(message);
    this.#stopLoneTyping(threadId);
    const card = cardOf(message);
    if (card) {
      // The platform signs the buttons' values for this conversation; the pipeline checks presses.
      const rich = cardToRich(card);
      const { messageId } = reply ? await reply.send(rich) : await this.platform.sendMessage(target, rich);
      const text = rich.title ?? rich.text ?? '';
      return { id: messageId, threadId, raw: { messageId, target, text } };
    }
    const text = this.#converter.renderPostable(message);
    const { messageId } = reply ? await reply.text(text) : await this.platform.sendText(target, text);
    for (const attachment of attachmentsOf(message)) {
      await this.platform.sendMessage(target, attachment);
    }
    return { id: messageId, threadId, raw: { messageId, target, text } };
  }

  /** Replaces a text message's text (Tencent `modify_*_msg`, RongCloud's edit). Cards cannot be edited. */
  async editMessage(
    threadId: string,
    messageId: string,
    message: AdapterPostableMessage,
  ): Promise<RawMessage<ImbotRawMessage>> {
    const target = this.#targetOf(threadId);
    if (!this.platform.updateText) throw new NotImplementedError(`${this.name} cannot edit messages`, 'edit');
    if (cardOf(message)) {
      throw new NotImplementedError(
        'a card cannot be edited on these clouds: delete it and post a new one',
        'edit',
      );
    }
    refuseUploads(message);
    const text = this.#converter.renderPostable(message);
    await this.platform.updateText(target, messageId, text);
    return { id: messageId, threadId, raw: { messageId, target, text } };
  }

  /**
   * Marks the user's messages read up to `messageId` (one-to-one chats: Tencent `admin_set_msg_read`,
   * RongCloud's read notice), so their client shows the bot has read them. Groups have no read
   * mark a bot can set: the Chat SDK's `NotImplementedError`.
   */
  async markAsRead(threadId: string, messageId: string, message?: Message<ImbotRawMessage>): Promise<void> {
    const target = this.#targetOf(threadId);
    if (!this.platform.markRead || 'groupId' in target) {
      throw new NotImplementedError(`${this.name} bots can mark one-to-one chats read only`, 'markAsRead');
    }
    await this.platform.markRead(target, messageId, message?.metadata.dateSent);
  }

  /**
   * Posts `message` as a reply quoting the message `messageId` (Tencent: TUIKit's `messageReply`;
   * RongCloud: `RC:ReferenceMsg`), its text and sender read from the thread's history where it can
   * be. A card is posted as a card, unquoted: neither cloud quotes from one.
   */
  async reply(
    threadId: string,
    messageId: string,
    message: AdapterPostableMessage,
  ): Promise<RawMessage<ImbotRawMessage>> {
    if (cardOf(message)) return this.postMessage(threadId, message);
    const target = this.#targetOf(threadId);
    const turn = this.#replyIn(threadId);
    refuseUploads(message);
    this.#stopLoneTyping(threadId);
    const quoted = await this.fetchMessage(threadId, messageId).catch(() => null);
    const quote = { messageId, text: quoted?.text ?? '', from: quoted?.author.userId ?? '' };
    const text = this.#converter.renderPostable(message);
    const { messageId: sent } = turn
      ? await turn.text(text, { quote })
      : await this.platform.sendText(target, text, { quote });
    return { id: sent, threadId, raw: { messageId: sent, target, text } };
  }

  /** Recalls a message the bot sent. */
  async deleteMessage(threadId: string, messageId: string): Promise<void> {
    const target = this.#targetOf(threadId);
    if (!this.platform.deleteMessage) {
      throw new NotImplementedError(`${this.name} cannot recall messages`, 'delete');
    }
    await this.platform.deleteMessage(target, messageId);
  }

  async addReaction(_threadId: string, _messageId: string, _emoji: EmojiValue | string): Promise<void> {
    throw new NotImplementedError(`${this.name} bots cannot react to messages`, 'reactions');
  }

  async removeReaction(_threadId: string, _messageId: string, _emoji: EmojiValue | string): Promise<void> {
    throw new NotImplementedError(`${this.name} bots cannot react to messages`, 'reactions');
  }

  /**
   * The cloud's "typing…" to the user (one-to-one chats; groups show none), naming `status` where
   * the client shows it. In a handler it is the answer's own signal, which its first text stops;
   * elsewhere it lasts until the next post to the thread, `endTyping`, or a minute.
   */
  async startTyping(threadId: string, status?: string): Promise<void> {
    const target = this.#targetOf(threadId);
    const indicator = this.#replyIn(threadId)?.typing ?? this.#loneTypingFor(threadId, target);
    if (!indicator) return;
    if (indicator.state === 'idle') indicator.start();
    if (status) indicator.status(status);
  }

  async endTyping(threadId: string): Promise<void> {
    this.#replyIn(threadId)?.typing?.stop();
    this.#stopLoneTyping(threadId);
  }

  /**
   * Streams `textStream` as one message that grows on the cloud (Tencent `send_stream_msg` /
   * `stream_msg`, RongCloud `RC:StreamMsg`), under the app's shared budget, rolling over past the
   * cloud's size limit and falling back to plain messages when streaming fails. `task_update` and
   * `plan_update` chunks keep the typing signal alive and name what runs. Resolves with the message.
   */
  async stream(
    threadId: string,
    textStream: AsyncIterable<string | StreamChunk>,
  ): Promise<RawMessage<ImbotRawMessage>> {
    const target = this.#targetOf(threadId);
    const reply = this.#replyIn(threadId);
    const lone = this.#loneTyping.get(threadId);
    // The stream takes the signal over: its first text stops it.
    this.#loneTyping.delete(threadId);
    const session = reply
      ? reply.stream()
      : this.pipeline.openStream(target, { typing: lone ?? this.#options.typing ?? true });
    let messageId = '';
    session.on('open', (opened) => {
      messageId = opened.messageId;
    });
    // The Chat SDK's chunks are `AnswerPart`s (a `type` and fields); its interfaces just name no index signature.
    const finish = await session.pipeFrom(textStream as AnswerSource);
    return { id: messageId, threadId, raw: { messageId, target, text: finish.text, finish } };
  }

  /**
   * A page of the thread's history, in the Chat SDK's cursor and direction semantics (each page
   * oldest first; `backward` from the latest, `forward` from the first). Tencent reads it back from
   * the cloud (`admin_getroammsg`, `group_msg_get_simple`), `forward` over the latest 1,000
   * messages. With a `transcript` store (RongCloud's history, or any cloud's where the app wants
   * it, across restarts and replicas with `RedisTranscriptStore`) it reads the store; on RongCloud
   * without one, an empty page lets the Chat SDK serve its own.
   */
  async fetchMessages(threadId: string, options: FetchOptions = {}): Promise<FetchResult<ImbotRawMessage>> {
    const target = this.#targetOf(threadId);
    if (this.persistThreadHistory) return { messages: [] };
    const limit = options.limit ?? 50;
    if ((options.direction ?? 'backward') === 'backward') {
      const slice = await this.#history(target, limit, options.cursor);
      const result: FetchResult<ImbotRawMessage> = {
        messages: slice.messages.reverse().map((m) => this.parseMessage(m)),
      };
      if (slice.before !== undefined) result.nextCursor = slice.before;
      return result;
    }
    const all = (await this.#history(target, FORWARD_READ_LIMIT)).messages.reverse();
    const start = options.cursor === undefined ? 0 : all.findIndex((m) => m.messageId === options.cursor) + 1;
    if (options.cursor !== undefined && start === 0) {
      throw new ValidationError(
        'cursor',
        'cursor: not a forward cursor of this thread (or past its latest 1,000 messages)',
      );
    }
    const page = all.slice(start, start + limit);
    const result: FetchResult<ImbotRawMessage> = { messages: page.map((m) => this.parseMessage(m)) };
    const last = page.at(-1);
    if (last && start + limit < all.length) result.nextCursor = last.messageId;
    return result;
  }

  /** One message of the thread, looked for among its latest 500; null when it is not there. */
  async fetchMessage(threadId: string, messageId: string): Promise<Message<ImbotRawMessage> | null> {
    const target = this.#targetOf(threadId);
    if (this.persistThreadHistory) return null;
    const { messages } = await this.#history(target, FETCH_ONE_READ_LIMIT);
    const found = messages.find((m) => m.messageId === messageId);
    return found ? this.parseMessage(found) : null;
  }

  renderFormatted(content: FormattedContent): string {
    return this.#converter.fromAst(content);
  }

  /** One message of a webhook, handed to the Chat SDK inside its turn. */
  async #dispatch(message: InboundMessage, reply: Reply, options: WebhookOptions | undefined): Promise<void> {
    const chat = this.#requireChat();
    const threadId = this.#threadIdOf(message);
    // A stop word aborts the Chat SDK's turn too, so `thread` work checking its signal ends.
    const abortTurn = () => void chat.abortTurn(threadId).catch(() => undefined);
    reply.signal.addEventListener('abort', abortTurn, { once: true });
    try {
      await turns.run({ threadId, reply }, () =>
        message.action
          ? this.#press(chat, message, message.action, threadId, options)
          : // imbot's pipeline has de-duplicated the delivery already (see the README).
            chat
              .processMessage(this, threadId, this.parseMessage(message), { ...options, deduplicate: false })
              .catch(handlerFailed),
      );
    } finally {
      reply.signal.removeEventListener('abort', abortTurn);
    }
  }

  /**
   * A card button press, which the pipeline has checked against the signature the platform gave
   * it: dispatched to `onAction` with the button's id and value.
   */
  async #press(
    chat: ChatInstance,
    message: InboundMessage,
    pressed: NonNullable<InboundMessage['action']>,
    threadId: string,
    options: WebhookOptions | undefined,
  ): Promise<void> {
    const action = openButtonAction(pressed.value);
    await chat
      .processAction(
        {
          adapter: this,
          actionId: action.actionId,
          ...(action.value !== undefined ? { value: action.value } : {}),
          messageId: pressed.messageId ?? '',
          threadId,
          user: this.#author(message.from),
          raw: message,
        },
        options,
      )
      .catch(handlerFailed);
  }

  /**
   * Up to `limit` messages of `target`'s conversation back from `before`, newest first: from the
   * receiver's transcript where one is configured, else from the cloud's history.
   */
  #history(target: ReplyTarget, limit: number, before?: string): Promise<HistorySlice> {
    const store = this.#options.transcript;
    return store
      ? readTranscript(store, this.name, target, limit, before)
      : readLatestMessages(this.platform, target, limit, before);
  }

  #requireChat(): ChatInstance {
    if (!this.#chat) {
      throw new ImbotError(
        'NOT_INITIALIZED',
        'the Chat SDK has not initialized this adapter yet: await bot.initialize() first',
      );
    }
    return this.#chat;
  }

  /** The reply of the handler turn running in `threadId`, when this call comes from inside it. */
  #replyIn(threadId: string): Reply | undefined {
    const turn = turns.getStore();
    return turn?.threadId === threadId ? turn.reply : undefined;
  }

  /** Where a post to `threadId` goes: the running turn's target (it @-mentions the asker in a group), else the conversation. */
  #targetOf(threadId: string): ReplyTarget {
    const thread = this.decodeThreadId(threadId);
    const reply = this.#replyIn(threadId);
    if (reply) return reply.target;
    return thread.type === 'dm'
      ? { botId: this.botUserId, userId: thread.userId }
      : { botId: this.botUserId, groupId: thread.groupId };
  }

  #threadIdOf(message: InboundMessage): string {
    return this.#threadIdOfConversation(
      message.conversation.type === 'c2c' ? { type: 'c2c', userId: message.from } : message.conversation,
    );
  }

  #threadIdOfConversation(conversation: Conversation): string {
    return this.encodeThreadId(
      conversation.type === 'c2c'
        ? { type: 'dm', userId: conversation.userId }
        : { type: 'group', groupId: conversation.groupId },
    );
  }

  #threadIdOfTarget(target: ReplyTarget): string {
    return this.#threadIdOfConversation(
      'groupId' in target
        ? { type: 'group', groupId: target.groupId }
        : { type: 'c2c', userId: target.userId },
    );
  }

  #author(userId: string): Author {
    const isMe = userId === this.botUserId;
    return {
      userId,
      userName: isMe ? this.userName : userId,
      fullName: isMe ? this.userName : userId,
      isBot: isMe || this.platform.isBot(userId) ? true : 'unknown',
      isMe,
    };
  }

  #loneTypingFor(threadId: string, target: ReplyTarget): TypingIndicator | undefined {
    const running = this.#loneTyping.get(threadId);
    if (running && running.state !== 'stopped') return running;
    const indicator = this.platform.typing?.(target);
    if (!indicator) return undefined;
    indicator.start({ stopAfterMs: LONE_TYPING_MS });
    this.#loneTyping.set(threadId, indicator);
    return indicator;
  }

  /** Stops a typing signal started outside a handler. */
  #stopLoneTyping(threadId: string): void {
    this.#loneTyping.get(threadId)?.stop();
    this.#loneTyping.delete(threadId);
  }
}

/** A Chat SDK handler failed: the Chat SDK has logged it; imbot reports only its own failures. */
function handlerFailed(): void {}

/** An attachment of a user's message in the Chat SDK's words; kinds it has no word for are left out. */
function toAttachment(attachment: InboundAttachment): Attachment[] {
  if (attachment.kind === 'other') return [];
  return [
    {
      type: attachment.kind,
      ...(attachment.url !== undefined ? { url: attachment.url } : {}),
      ...(attachment.name !== undefined ? { name: attachment.name } : {}),
    },
  ];
}

/** A postable's image and file attachments given by URL, as imbot's rich messages. */
function attachmentsOf(message: AdapterPostableMessage) {
  if (typeof message !== 'object' || message === null || !('attachments' in message)) return [];
  return (message.attachments ?? []).map((attachment) => {
    if (attachment.url === undefined) {
      throw new NotImplementedError('attachments must have a URL: these clouds take no uploads', 'files');
    }
    return attachment.type === 'image'
      ? { type: 'image' as const, url: attachment.url }
      : { type: 'file' as const, url: attachment.url, name: attachment.name ?? 'file' };
  });
}
