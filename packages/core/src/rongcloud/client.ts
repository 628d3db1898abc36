import type { z } from 'zod';
import { CloudClient } from '../client/cloud-client.js';
import type { RateLimiter } from '../limits/rate-limiter.js';
import type { ButtonMode } from '../message/button-signer.js';
import type { ObservabilityOptions } from '../observe/telemetry.js';
import type { BotPlatform } from '../platform.js';
import type { PlanLimits } from '../rate-rows.js';
import { type Secret, SecretSource } from '../secret.js';
import type { StreamJournal } from '../stream/journal.js';
import type { StreamSession, StreamSessionOptions } from '../stream/session.js';
import type { StreamCall } from '../stream/transport.js';
import type { TypingIndicator } from '../stream/typing.js';
import { parseInput } from '../validation.js';
import type { Body, CallOptions } from '../wire/request.js';
import type { RetryMode, RetryPolicy } from '../wire/retry.js';
import type { TransportKind } from '../wire/runtime.js';
import { textMessage, withMentions } from './elements.js';
import { RongCloudPlatform } from './platform.js';
import { RongCloudProtocol } from './protocol.js';
import { rongCloudRateCharges, rongCloudRateTableFor } from './rate-table.js';
import { type RongCloudRegion, rongCloudRegions } from './regions.js';
import { type RoutedMessage, RoutedStreams, type RouteStore } from './routes.js';
import {
  BOTS_PER_GET,
  botId,
  type CreateBotInput,
  createBotInput,
  getBotsAnswer,
  getStreamAnswer,
  groupMembersInput,
  mentionList,
  type PublishGroupInput,
  type PublishPrivateInput,
  publishAnswer,
  publishGroupInput,
  publishPrivateInput,
  queryBotsAnswer,
  type RecallInput,
  type RongBot,
  type RongBotIntegration,
  type RongMessage,
  type RongSendTypingInput,
  recallInput,
  rongClientOptions,
  rongEnvelope,
  rongUserId,
  sendTypingInput,
  type UpdateBotInput,
  updateBotInput,
} from './schemas.js';
import { ROUTE_WAIT_MS, type RongStreamTarget, RongStreamTransport } from './streams.js';

/** The status message that says a user is typing. */
export const TYPING_OBJECT_NAME = 'RC:TypSts';
const TYPING_PATH = '/statusmessage/private/publish.json';
/** RongCloud's clients show a typing status for about 6 s: renewed before it lapses. */
const TYPING_RENEW_MS = 5000;

export interface RongCloudOptions extends ObservabilityOptions {
  appKey: string;
  /** The App Secret: it signs every request and is never sent. */
  /** The App Secret, or a function (sync or async) asked for the one in force on each use. */
  appSecret: Secret;
  /** The data centre: its primary and backup domains are used. */
  region?: RongCloudRegion;
  /** Or: any origin that speaks the API (the emulator's `rongcloud.url`), with its backup. */
  baseUrl?: string;
  backupBaseUrl?: string;
  /** Where the bots' webhook integration points; used when `ensureBots` creates bots. */
  callbackUrl?: string;
  /**
   * Full message routing (全量消息路由) is switched on in the console, with messages sent through the
   * Server API, and posts to this app's receiver (see `routes`): a stream whose opening call's answer
   * was lost then looks for its message there, waiting up to `waitMs` (default 2000) for its route.
   * Off by default: without routing, no route would ever come.
   */
  messageRouting?: boolean | { waitMs?: number };
  /**
   * Where routed messages are kept for the streams to look in. Default: in this process. With
   * several processes, `new RedisRouteStore(…)` from `@imbot/redis`, so that a route that reaches one
   * replica serves a stream on another, and a survivor can close a dead process's opening call.
   */
  routes?: RouteStore;
  /** Deadline of one HTTP request. Default 10 000 ms. */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** A `RateLimiter`, or `false`. Default: 100 calls of each API in any second, as the cloud allows. */
  rateLimit?: RateLimiter | false;
  /**
   * The app's plan where it differs from the documented limits, by the rate table's row names:
   * `{ 'group/publish': 50 }`. An unknown name or a limit that is not a positive whole number is a
   * `ValidationError` at construction. Default: the documented table.
   */
  limits?: PlanLimits;
  connections?: number;
  /**
   * How calls are sent: `'undici'` (undici's dispatch, Node's default: the least overhead per call) or
   * `'fetch'` (the runtime's `fetch`: the default on Bun, Deno, Cloudflare Workers and wherever
   * there is no Node). Left out, the runtime decides (`detectTransport`). Timeouts, `signal`, the
   * answer size cap, errors, failover and the budget behave the same on both.
   */
  transport?: TransportKind;
  /**
   * Where open streamed messages are recorded, so that another process closes those this one
   * leaves open if it dies (`new RedisStreamJournal(…)` from `@imbot/redis`).
   */
  journal?: StreamJournal;
  /**
   * How cards carry their `message` buttons: `'signed'` (default) binds each value to the bot and
   * the conversation under a key derived from the App Secret, so that the receivers refuse a press
   * a client made up (`ButtonPressRefusedError`); `'raw'` sends values as they are.
   */
  buttons?: ButtonMode;
}

/**
 * A client for RongCloud's server API as bots use it: bots (`/v3/bot/*.json`), messages from a bot,
 * and streaming (`RC:StreamMsg`). Every request is freshly signed; on network errors, timeouts and
 * 5xx the client switches to the data centre's backup domain (and stays there until it fails too).
 * Calls are rate-limited as the cloud counts them and retried when that is safe.
 *
 * @example
 * const rong = new RongCloud({ appKey, appSecret, region: 'singapore' });
 * const [bot] = await rong.getBots(['bot-helper']);
 */
export class RongCloud extends CloudClient<RongStreamTarget> {
  readonly appKey: string;
  readonly callbackUrl: string | undefined;
  /**
   * The bot's streamed messages that full message routing posted back to the app (given by the
   * receiver, or by `routes.record(parseRoutedMessage(body))`): where a stream finds the message
   * whose opening call's answer was lost.
   */
  readonly routes: RouteStore;
  readonly #appSecret: SecretSource;
  readonly #buttons: ButtonMode | undefined;
  /** How long a stream waits for a route; undefined without message routing. */
  readonly #routeWaitMs: number | undefined;
  #platform: RongCloudPlatform | undefined;

  constructor(options: RongCloudOptions) {
    const o = parseInput(rongClientOptions, options, 'options', RongCloud);
    const appSecret = new SecretSource(o.appSecret, 'appSecret');
    const region = o.region ? rongCloudRegions[o.region] : undefined;
    const table = rongCloudRateTableFor(o.limits as PlanLimits | undefined);
    super({
      ...options,
      charges: (api, fields) => rongCloudRateCharges(api, fields, table),
      protocol: new RongCloudProtocol({ appKey: o.appKey, appSecret }),
      app: `rongcloud:${o.appKey}`,
      domains: region ?? { baseUrl: o.baseUrl as string, backupBaseUrl: o.backupBaseUrl },
      callsPerSecond: 100,
    });
    this.appKey = o.appKey;
    this.#appSecret = appSecret;
    this.#buttons = o.buttons;
    this.callbackUrl = o.callbackUrl;
    this.routes = options.routes ?? new RoutedStreams();
    const routing = o.messageRouting;
    this.#routeWaitMs =
      routing === true ? ROUTE_WAIT_MS : routing ? (routing.waitMs ?? ROUTE_WAIT_MS) : undefined;
  }

  /** This client as a cloud-neutral `BotPlatform`, for `ensureBots`, the middleware and the adapter. */
  get platform(): BotPlatform {
    this.#platform ??= new RongCloudPlatform(this, this.#appSecret, { buttons: this.#buttons });
    return this.#platform;
  }

  /** Bots by user id (`/v3/bot/get.json`), 20 per call, asked concurrently when more are given. */
  async getBots(userIds: string[]): Promise<RongBot[]> {
    const ids = userIds.map((id, i) => parseInput(botId, id, `getBots.userIds.${i}`));
    const batches: string[][] = [];
    for (let i = 0; i < ids.length; i += BOTS_PER_GET) batches.push(ids.slice(i, i + BOTS_PER_GET));
    const answers = await Promise.all(
      batches.map((batch) =>
        this.#request('/v3/bot/get.json', { json: { userIds: batch } }, getBotsAnswer, 'idempotent'),
      ),
    );
    return answers.flatMap((a) => a.bots);
  }

  /** Every bot of the app, page by page (`/v3/bot/query.json`), integrations included. */
  async *listBots(options: { pageSize?: number } = {}): AsyncGenerator<RongBot> {
    const pageSize = options.pageSize ?? 50;
    for (let page = 1; ; page++) {
      const answer = await this.#request(
        '/v3/bot/query.json',
        { json: { page, pageSize, includeIntegration: true } },
        queryBotsAnswer,
        'idempotent',
      );
      yield* answer.bots;
      if (!answer.hasNext || answer.bots.length === 0) return;
    }
  }

  /** Creates a bot (`/v3/bot/create.json`); limits are checked first. Not retried once it may have been applied. */
  async createBot(input: CreateBotInput): Promise<void> {
    const bot = parseInput(createBotInput, input, 'createBot');
    await this.#request('/v3/bot/create.json', { json: bot }, rongEnvelope, 'unapplied');
  }

  /** Changes the fields given (`/v3/bot/update.json`). */
  async updateBot(input: UpdateBotInput): Promise<void> {
    const bot = parseInput(updateBotInput, input, 'updateBot');
    await this.#request('/v3/bot/update.json', { json: bot }, rongEnvelope, 'idempotent');
  }

  /** Deletes a bot (`/v3/bot/delete.json`). */
  async deleteBot(userId: string): Promise<void> {
    const id = parseInput(botId, userId, 'deleteBot.userId');
    await this.#request('/v3/bot/delete.json', { json: { userId: id } }, rongEnvelope, 'idempotent');
  }

  /** Adds an integration to a bot (`/v3/bot/integration/create.json`). */
  async createIntegration(userId: string, integration: RongBotIntegration): Promise<void> {
    const id = parseInput(botId, userId, 'createIntegration.userId');
    await this.#request(
      '/v3/bot/integration/create.json',
      { json: { ...integration, userId: id } },
      rongEnvelope,
      'unapplied',
    );
  }

  /** Changes a bot's integration of `integration.type` (`/v3/bot/integration/update.json`). */
  async updateIntegration(userId: string, integration: RongBotIntegration): Promise<void> {
    const id = parseInput(botId, userId, 'updateIntegration.userId');
    await this.#request(
      '/v3/bot/integration/update.json',
      { json: { ...integration, userId: id } },
      rongEnvelope,
      'idempotent',
    );
  }

  /** Removes a bot's integration of that type (`/v3/bot/integration/delete.json`). */
  async deleteIntegration(userId: string, type: string): Promise<void> {
    const id = parseInput(botId, userId, 'deleteIntegration.userId');
    await this.#request(
      '/v3/bot/integration/delete.json',
      { json: { userId: id, type } },
      rongEnvelope,
      'idempotent',
    );
  }

  /**
   * A message from a bot to one or more users (`/message/private/publish.json`): `text`
   * (`RC:TxtMsg`), or any `message` type. Retried only when it certainly was not sent, unless
   * `retry: 'idempotent'` accepts that a retry after an unknown outcome may show it twice (RongCloud
   * does not de-duplicate messages). Resolves with the ids and the time it was sent, which a recall
   * needs.
   */
  async publishPrivate(
    input: PublishPrivateInput,
    options: { retry?: RetryMode } = {},
  ): Promise<{ messageUIDs: string[]; sentTime: number }> {
    const m = parseInput(publishPrivateInput, input, 'publishPrivate');
    const message = m.message ?? textMessage(m.text as string);
    return this.#publish(
      '/message/private/publish.json',
      { fromUserId: m.from, toUserId: Array.isArray(m.to) ? m.to : [m.to] },
      message,
      options.retry,
    );
  }

  /**
   * A message from a bot to a group (`/message/group/publish.json`): `text` or `message`, as for
   * `publishPrivate`; `mention` @-mentions users (`mentionedInfo`, `isMentioned`, and for text
   * `@id ` in front).
   */
  async publishGroup(
    input: PublishGroupInput,
    options: { retry?: RetryMode } = {},
  ): Promise<{ messageUIDs: string[]; sentTime: number }> {
    const m = parseInput(publishGroupInput, input, 'publishGroup');
    const mention = m.mention ?? [];
    const message = withMentions(m.message ?? textMessage(m.text as string), mention);
    return this.#publish(
      '/message/group/publish.json',
      { fromUserId: m.from, toGroupId: m.groupId, ...(mention.length > 0 ? { isMentioned: '1' } : {}) },
      message,
      options.retry,
    );
  }

  async #publish(
    path: string,
    fields: Record<string, string | string[]>,
    message: RongMessage,
    retry: RetryMode | undefined,
  ): Promise<{ messageUIDs: string[]; sentTime: number }> {
    const form = {
      ...fields,
      objectName: message.objectName,
      content: JSON.stringify(message.content),
      ...(message.pushContent !== undefined ? { pushContent: message.pushContent } : {}),
    };
    const answer = await this.#request(path, { form }, publishAnswer, retry ?? 'unapplied');
    return { messageUIDs: answer.messageUIDs.map((u) => u.messageUID), sentTime: Date.now() };
  }

  /**
   * Tells user `to` that bot `from` is typing: the status message `RC:TypSts`
   * (`/statusmessage/private/publish.json`), which is neither stored, counted unread nor pushed,
   * and which RongCloud's clients show for about 6 s in one-to-one chats. `statusText` rides in
   * its `data`, for clients that show what runs.
   */
  sendTyping(input: RongSendTypingInput, signal?: AbortSignal): Promise<void> {
    return this.#sendTyping(input, { signal });
  }

  /** `sendTyping`, with its call's options: the indicator's carries the permit taken for it. */
  async #sendTyping(input: RongSendTypingInput, call: CallOptions): Promise<void> {
    const t = parseInput(sendTypingInput, input, 'sendTyping');
    const content = { typingContentType: 'RC:TxtMsg', ...(t.statusText ? { data: t.statusText } : {}) };
    const form = {
      fromUserId: t.from,
      toUserId: t.to,
      objectName: TYPING_OBJECT_NAME,
      content: JSON.stringify(content),
      verifyBlacklist: '0',
      isIncludeSender: '0',
    };
    await this.#request(TYPING_PATH, { form }, rongEnvelope, 'idempotent', call);
  }

  /**
   * The typing indicator from a bot to a user: `start()` it when an answer begins, and a stream
   * session's first text stops it. Undefined for a group: RongCloud's clients show typing only in
   * one-to-one chats.
   */
  typing(target: RongStreamTarget): TypingIndicator | undefined {
    return this.typingFor(target);
  }

  protected override typingFor(target: RongStreamTarget): TypingIndicator | undefined {
    if ('groupId' in target) return undefined;
    const { from, to } = target;
    return this.typingIndicator({
      rateKey: TYPING_PATH,
      renewMs: TYPING_RENEW_MS,
      send: (statusText, signal, permit) =>
        this.#sendTyping({ from, to, ...(statusText ? { statusText } : {}) }, { signal, permit }),
    });
  }

  /**
   * Recalls a message (`/message/recall.json`): clients replace it with a "message recalled" notice,
   * or with `silent` remove it without one.
   */
  async recall(input: RecallInput): Promise<void> {
    const r = parseInput(recallInput, input, 'recall');
    const form = {
      fromUserId: r.from,
      conversationType: r.conversation === 'group' ? '3' : '1',
      targetId: r.targetId,
      messageUID: r.messageUID,
      sentTime: String(r.sentTime),
      isDelete: r.silent ? '1' : '0',
    };
    await this.#request('/message/recall.json', { form }, rongEnvelope, 'idempotent');
  }

  /** Adds users to a group (`/group/join.json`), which RongCloud creates if it does not exist yet. */
  joinGroup(groupId: string, userIds: string[]): Promise<void> {
    return this.#groupMembers('/group/join.json', 'joinGroup', groupId, userIds);
  }

  /** Takes users out of a group (`/group/quit.json`). */
  quitGroup(groupId: string, userIds: string[]): Promise<void> {
    return this.#groupMembers('/group/quit.json', 'quitGroup', groupId, userIds);
  }

  async #groupMembers(path: string, what: string, groupId: string, userIds: string[]): Promise<void> {
    const g = parseInput(groupMembersInput, { groupId, userIds }, what);
    const form = { userId: g.userIds, groupId: g.groupId };
    await this.#request(path, { form }, rongEnvelope, 'idempotent');
  }

  /**
   * Opens a stream session from a bot to a user or a group (`/v3/message/{private|group}/publish_stream.json`,
   * `RC:StreamMsg`): text written to it reaches the user as one message that grows.
   */
  openStream(target: RongStreamTarget, options: StreamSessionOptions = {}): StreamSession {
    return this.session(target, options);
  }

  protected transportFor(target: RongStreamTarget): RongStreamTransport {
    const from = parseInput(rongUserId, target?.from, 'openStream.from');
    if ('groupId' in target) {
      parseInput(rongUserId, target.groupId, 'openStream.groupId');
      parseInput(mentionList, target.mention ?? [], 'openStream.mention');
    } else parseInput(rongUserId, (target as { to?: unknown }).to, 'openStream.to');
    const call: StreamCall = (path, json, schema, permit) =>
      this.#request(path, { json }, schema, 'unapplied', { permit });
    // The fallback must not lose the answer: after an unknown outcome it is sent again (at least once).
    const atLeastOnce = { retry: 'idempotent' } as const;
    const plain = (text: string) =>
      'groupId' in target
        ? this.publishGroup({ from, groupId: target.groupId, text, mention: target.mention }, atLeastOnce)
        : this.publishPrivate({ from, to: target.to, text }, atLeastOnce);
    const recall = (m: RoutedMessage) =>
      this.recall({
        from: m.from,
        conversation: m.channelType === 'GROUP' ? 'group' : 'private',
        targetId: m.to,
        messageUID: m.msgUID,
        sentTime: m.time,
        silent: true,
      });
    const waitMs = this.#routeWaitMs;
    const routed =
      waitMs === undefined ? undefined : { routes: this.routes, waitMs, recall, closed: this.closing };
    return new RongStreamTransport(call, plain, target, (uid) => this.getStream(uid), routed);
  }

  /**
   * A streamed message's content as the server holds it (`/v3/message/get_stream.json`), by the
   * `messageUID` its first call returned: the text so far, the last `seq` applied, and whether it is
   * complete. A stream session reads it back after a call whose outcome is unknown.
   */
  async getStream(messageUID: string): Promise<{ content: string; seq?: number; complete?: boolean }> {
    const uid = parseInput(rongUserId, messageUID, 'getStream.messageUID');
    const answer = await this.#request(
      '/v3/message/get_stream.json',
      { json: { messageUID: uid } },
      getStreamAnswer,
      'idempotent',
    );
    const stream: { content: string; seq?: number; complete?: boolean } = { content: answer.content };
    if (answer.seq !== undefined) stream.seq = answer.seq;
    if (answer.complete !== undefined) stream.complete = answer.complete;
    return stream;
  }

  /** Calls any other API by path (`/user/getToken.json`), JSON or form-encoded; returns the whole answer. */
  async call(
    path: string,
    body: Body,
    options: { retry?: RetryMode; signal?: AbortSignal } = {},
  ): Promise<z.output<typeof rongEnvelope>> {
    return this.#request(path, body, rongEnvelope, options.retry ?? 'unapplied', options);
  }

  /** One call of API `path` through the request layer. */
  #request<S extends z.ZodType>(
    path: string,
    body: Body,
    schema: S,
    mode: RetryMode,
    call?: CallOptions,
  ): Promise<z.output<S>> {
    return this.requests.request(path, path, body, schema, mode, call);
  }
}
