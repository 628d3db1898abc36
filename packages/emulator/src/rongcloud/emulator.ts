import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { BUTTON_PRESS_BUSINESS_ID, rongCloudNonce } from '@imbot/core/internal';
import {
  BUTTON_OBJECT_NAME,
  type RateCharge,
  type RateRow,
  rongCloudRateCharges,
  rongCloudRateTableFor,
} from '@imbot/core/rongcloud';
import { Agent, request } from 'undici';
import * as z from 'zod';
import type { Reply } from '../api-server.js';
import { CALLBACK_TIMEOUT_MS, type CallbackResult, postCallback } from '../callbacks.js';
import type { Message } from '../chat-state.js';
import { type Clock, realClock } from '../clock.js';
import {
  CloudEmulator,
  type EmulatedBot,
  mentionText,
  type UserSendResult,
  type UserSends,
  type UserSendsToGroup,
  userSendsInput,
  userSendsToGroupInput,
} from '../cloud.js';
import type { Faults } from '../faults.js';
import { defaultPerSecond, emulatedCharges } from '../rates.js';
import { type RongAnswer, type RongContext, rongCloudApis, statusOf } from './apis.js';
import { FREQUENCY_LIMIT as RONGCLOUD_FREQUENCY_LIMIT, signature as signatureOf } from './rules.js';
import { type RongBotRecord, RongCloudState } from './state.js';

export const rongCloudOptions = z.object({
  appKey: z.string().min(1),
  appSecret: z.string().min(1),
  /**
   * Calls of one API allowed in any second, replacing the documented app-wide limits (100 a second
   * for most APIs, 20 group messages a second, 6 000 private messages a minute). The per-channel
   * limit of ultra groups stays; `limits` changes it. Default: the documented table.
   */
  rateLimit: z.number().int().positive().optional(),
  /**
   * The app's plan over the documented table, by row name (`{ 'group/publish': 50 }`): the names
   * of `rongCloudRateTable` in `@imbot/core/rongcloud`.
   */
  limits: z.record(z.string(), z.number()).optional(),
  /** A stream with no call for this long ends, unfinished. Default 15 000 ms. */
  streamIdleMs: z.number().int().positive().optional(),
  /** Full message routing (全量消息路由), as switched on in the console: see `setMessageRouting`. */
  messageRouting: z.object({ url: z.url(), serverApi: z.boolean().optional() }).optional(),
});

/** Where full message routing posts, and whether messages sent through the Server API go too. */
export type MessageRouting = { url: string; serverApi?: boolean | undefined };
export type RongCloudEmulatorOptions = z.input<typeof rongCloudOptions>;

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()] ?? req.headers[`rc-${name.toLowerCase()}`];
  return Array.isArray(value) ? value[0] : value;
}

function rongReply(answer: RongAnswer): Reply {
  return { status: statusOf(answer.code), errorCode: answer.code, json: answer };
}

/**
 * The emulated RongCloud app: answers the bot, message and streaming APIs with the cloud's signature
 * check, limits and codes on a primary and a backup origin (either can be made to fail), delivers
 * users' messages to bots' webhook integrations with signed query parameters, and lets tests look inside.
 */
export class RongCloudEmulator extends CloudEmulator<RongCloudState> {
  protected readonly defaultGroupType = 'group';
  protected readonly internalErrorCode = 1000;
  readonly appKey: string;
  readonly appSecret: string;
  readonly #options: z.output<typeof rongCloudOptions>;
  readonly #context: RongContext;
  readonly #rates: readonly RateRow[];
  #routing: MessageRouting | undefined;
  /**
   * Routed messages are posted over a few connections, queued behind each other: a burst of
   * messages (a thousand streams opening at once) does not open a thousand connections to the app.
   */
  readonly #routeAgent = new Agent({ connections: 32 });
  /** Messages routed so far, and how many of those posts got no 200 answer. */
  readonly routed = { posted: 0, failed: 0 };

  constructor(options: RongCloudEmulatorOptions, faults: Faults, clock: Clock = realClock) {
    const parsed = rongCloudOptions.parse(options);
    const rates = rongCloudRateTableFor(parsed.limits, 'rongcloud.limits');
    super(new RongCloudState(), faults, {
      limitPerSecond: defaultPerSecond(rates, parsed.rateLimit),
      streamIdleMs: parsed.streamIdleMs ?? 15_000,
      clock,
    });
    this.#options = parsed;
    this.#rates = rates;
    this.appKey = this.#options.appKey;
    this.appSecret = this.#options.appSecret;
    this.#context = {
      state: this.state,
      streamIdleMs: this.#options.streamIdleMs ?? 15_000,
      now: () => this.clock.now(),
      newUid: () => randomBytes(10).toString('hex').toUpperCase(),
      streams: new Map(),
    };
    this.#routing = parsed.messageRouting;
    this.state.on('message', (message: Message) => this.#route(message));
  }

  /**
   * Switches full message routing (全量消息路由) on at `url`, or off with `undefined`: every message
   * users send, and with `serverApi` (off by default, as in the console) every message sent through
   * the Server API (a bot's too), is posted there as a form (`fromUserId`, `toUserId`, `objectName`,
   * `content`, `channelType`, `msgTimestamp`, `msgUID`, `source`, …) signed with query parameters.
   * A streamed message is routed once, when its first piece opens it. Messages of the emulator's
   * other element types (images, files, cards) are not routed.
   */
  setMessageRouting(routing: MessageRouting | undefined): void {
    this.#routing = routing === undefined ? undefined : rongCloudOptions.shape.messageRouting.parse(routing);
  }

  #route(message: Message): void {
    const routing = this.#routing;
    if (!routing || message.kind === 'custom') return;
    const fromServer = this.state.bots.has(message.from);
    if (fromServer && !routing.serverApi) return;
    const stream = message.kind === 'stream';
    const content = stream
      ? { content: message.text, seq: 1, type: 'markdown' }
      : { content: message.text, extra: '' };
    const form = new URLSearchParams({
      fromUserId: message.from,
      toUserId: message.groupId ?? message.to,
      objectName: stream ? 'RC:StreamMsg' : 'RC:TxtMsg',
      content: JSON.stringify(content),
      channelType: message.groupId ? 'GROUP' : 'PERSON',
      msgTimestamp: String(message.time),
      msgUID: message.msgKey,
      sensitiveType: '0',
      source: fromServer ? 'Server' : 'Websocket',
      busChannel: '',
    });
    const url = this.#signed(routing.url, 'signTimestamp', this.clock.now());
    this.routed.posted++;
    request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
      dispatcher: this.#routeAgent,
      headersTimeout: CALLBACK_TIMEOUT_MS,
      bodyTimeout: CALLBACK_TIMEOUT_MS,
    }).then(
      async (response) => {
        await response.body.dump();
        if (response.statusCode !== 200) this.routed.failed++;
      },
      () => {
        this.routed.failed++;
      },
    );
  }

  /**
   * A user writes to a bot: recorded, then posted to the bot's webhook integration (2 s to answer).
   * A picture or a file goes as an `RC:ImgMsg` or `RC:FileMsg` of its own, after any text.
   */
  async userSends(input: UserSends): Promise<UserSendResult> {
    const { from, to, text, attachment } = userSendsInput.parse(input);
    // A RongCloud message is one kind: a picture or a file goes as its own message, after the text.
    if (!attachment || text !== '') {
      const message = this.addUserMessage(this.#context.newUid(), from, to, text);
      const sent = await this.#deliverPrivate(message, to, 'RC:TxtMsg', { content: text, extra: '' });
      if (!attachment) return sent;
    }
    const message = this.addUserMessage(this.#context.newUid(), from, to, '', { content: attachment });
    return attachment.type === 'image'
      ? this.#deliverPrivate(message, to, 'RC:ImgMsg', { content: '', imageUri: attachment.url, extra: '' })
      : this.#deliverPrivate(message, to, 'RC:FileMsg', {
          name: attachment.name,
          size: 0,
          type: attachment.name.split('.').pop() ?? '',
          fileUrl: attachment.url,
          extra: '',
        });
  }

  /**
   * A user writes in a group (made on first use, with the user in it): each @-mentioned bot that is
   * a member and has a webhook gets a `message:group` callback.
   */
  async userSendsToGroup(input: UserSendsToGroup): Promise<UserSendResult> {
    const data = userSendsToGroupInput.parse(input);
    this.groupForUser(data.groupId, data.from);
    const text = mentionText(data.text, data.mentions);
    const message = this.addUserMessage(this.#context.newUid(), data.from, data.groupId, text, {
      groupId: data.groupId,
      ...(data.mentions.length > 0 ? { mentions: data.mentions } : {}),
    });
    const content = { content: text, extra: '', mentionedInfo: { type: 2, userIdList: data.mentions } };
    return this.#deliverToGroup(message, 'RC:TxtMsg', content, data.mentions);
  }

  /**
   * A press travels as an `IMB:ButtonMsg` whose content is the button-press JSON; in a group it
   * @-mentions the bot that sent the card, so that the bot is called back.
   */
  protected async deliverPress(card: Message, from: string, value: string): Promise<UserSendResult> {
    const press = { businessID: BUTTON_PRESS_BUSINESS_ID, value, messageId: card.msgKey };
    if (card.groupId) {
      const message = this.addUserMessage(this.#context.newUid(), from, card.groupId, value, {
        groupId: card.groupId,
        mentions: [card.from],
        pressed: true,
      });
      const content = { ...press, mentionedInfo: { type: 2, userIdList: [card.from] } };
      return this.#deliverToGroup(message, BUTTON_OBJECT_NAME, content, [card.from]);
    }
    const message = this.addUserMessage(this.#context.newUid(), from, card.from, value, { pressed: true });
    return this.#deliverPrivate(message, card.from, BUTTON_OBJECT_NAME, press);
  }

  async #deliverPrivate(
    message: Message,
    to: string,
    objectName: string,
    content: Record<string, unknown>,
  ): Promise<UserSendResult> {
    const bot = this.state.bots.get(to);
    if (!bot) return { message };
    const data = { toUserId: to, objectName, content: JSON.stringify(content), channelType: 'PERSON' };
    const callback = await this.#deliver(bot, 'message:private', data, message.from, message);
    return callback ? { message, callback, callbacks: [callback] } : { message };
  }

  async #deliverToGroup(
    message: Message,
    objectName: string,
    content: Record<string, unknown>,
    mentions: string[],
  ): Promise<UserSendResult> {
    const groupId = message.groupId as string;
    const bots = mentions
      .filter((id) => this.state.isMember(groupId, id))
      .map((id) => this.state.bots.get(id))
      .filter((b): b is RongBotRecord => !!b);
    const json = JSON.stringify(content);
    const callbacks = (
      await Promise.all(
        bots.map((bot) =>
          this.#deliver(
            bot,
            'message:group',
            { toUserId: bot.userId, groupId, objectName, content: json, channelType: 'GROUP' },
            message.from,
            message,
          ),
        ),
      )
    ).filter((c): c is CallbackResult => !!c);
    const [first] = callbacks;
    return first ? { message, callback: first, callbacks } : { message };
  }

  bots(): EmulatedBot[] {
    return [...this.state.bots.values()].map((b) => {
      const bot: EmulatedBot = { userId: b.userId, name: b.name, avatarUrl: b.profileUrl, valid: true };
      if (b.metadata.description !== undefined) bot.description = b.metadata.description;
      return bot;
    });
  }

  override reset(): void {
    super.reset();
    this.#context.streams.clear();
  }

  override close(): void {
    super.close();
    void this.#routeAgent.close();
  }

  async #deliver(
    bot: RongBotRecord,
    type: string,
    data: Record<string, unknown>,
    from: string,
    message: Message,
  ): Promise<CallbackResult | undefined> {
    const hook = bot.integrations.find((i) => i.type === 'webhook' && i.enabled !== false);
    const objectName = data.objectName as string;
    // An integration that lists objectNames is told of those types only.
    if (!hook || (hook.objectNames && !hook.objectNames.includes(objectName))) return undefined;
    const now = this.clock.now();
    const url = this.#signed(hook.callbackUrl, 'timestamp', now);
    const { integrations: _omit, ...botView } = bot;
    const body = {
      type,
      timestamp: now,
      bot: botView,
      data: { fromUserId: from, msgUID: message.msgKey, ...data },
    };
    const callback = await postCallback(url, type, body, ['signature']);
    this.recordCallback(callback);
    return callback;
  }

  /**
   * `base` with the query parameters RongCloud signs its callbacks with: `appKey`, `nonce`, the time
   * (as `timestamp` for bot webhooks, `signTimestamp` for routed messages) and `signature`.
   */
  #signed(base: string, timeName: 'timestamp' | 'signTimestamp', now: number): URL {
    const url = new URL(base);
    const nonce = rongCloudNonce();
    url.searchParams.set('appKey', this.appKey);
    url.searchParams.set('nonce', nonce);
    url.searchParams.set(timeName, String(now));
    url.searchParams.set('signature', signatureOf(this.appSecret, nonce, now));
    return url;
  }

  /** RongCloud's rules: signed headers, JSON or form bodies, the business code mirrored in the HTTP status. */
  protected check(
    url: URL,
    req: IncomingMessage,
    text: string,
  ): { api: string; body: Record<string, unknown> } | { reply: Reply; api?: string } {
    {
      const api = url.pathname;
      const appKey = header(req, 'App-Key');
      const nonce = header(req, 'Nonce');
      const timestamp = header(req, 'Timestamp');
      const signature = header(req, 'Signature');
      if (!appKey || !nonce || !timestamp || !signature) {
        return {
          api,
          reply: rongReply({
            code: 1004,
            errorMessage: 'signature error: App-Key, Nonce, Timestamp and Signature are required',
          }),
        };
      }
      if (appKey !== this.appKey)
        return { api, reply: rongReply({ code: 1001, errorMessage: 'App Key and Secret do not match' }) };
      if (nonce.length > 18)
        return {
          api,
          reply: rongReply({ code: 1002, errorMessage: 'parameter error: Nonce over 18 characters' }),
        };
      const expected = Buffer.from(signatureOf(this.appSecret, nonce, timestamp));
      const actual = Buffer.from(signature.toLowerCase());
      if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
        return { api, reply: rongReply({ code: 1004, errorMessage: 'signature error' }) };
      }
      if (!rongCloudApis[api]) {
        return {
          api,
          reply: {
            status: 404,
            errorCode: 404,
            json: { code: 404, errorMessage: `the emulator does not implement ${api}` },
          },
        };
      }
      if (!text) return { api, reply: rongReply({ code: 1003, errorMessage: 'no POST data' }) };
      if ((req.headers['content-type'] ?? '').includes('application/x-www-form-urlencoded')) {
        const body: Record<string, unknown> = {};
        for (const [key, value] of new URLSearchParams(text)) {
          const had = body[key];
          body[key] = had === undefined ? value : [had, value].flat();
        }
        return { api, body };
      }
      try {
        const body = JSON.parse(text) as unknown;
        if (typeof body !== 'object' || body === null || Array.isArray(body))
          throw new Error('not an object');
        return { api, body: body as Record<string, unknown> };
      } catch {
        return {
          api,
          reply: rongReply({ code: 1002, errorMessage: 'parameter error: the body is not a JSON object' }),
        };
      }
    }
  }

  protected rateCharges(api: string, body: Record<string, unknown>): readonly RateCharge[] {
    const charges = rongCloudRateCharges(api, body, this.#rates);
    return emulatedCharges(charges, this.#rates, api, this.#options.rateLimit);
  }

  protected frequencyLimited(): Reply {
    return rongReply({
      code: RONGCLOUD_FREQUENCY_LIMIT,
      errorMessage: 'The call frequency exceeds the limit',
    });
  }

  protected failure(code: number, info: string): Reply {
    return rongReply({ code, errorMessage: info });
  }

  protected handleCall(api: string, body: Record<string, unknown>): Reply {
    return rongReply(
      (rongCloudApis[api] as NonNullable<(typeof rongCloudApis)[string]>)(body, this.#context),
    );
  }
}
