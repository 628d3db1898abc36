import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { BUTTON_PRESS_BUSINESS_ID, randomUint32 } from '@imbot/core/internal';
import {
  type RateCharge,
  type RateRow,
  TENCENT_GROUP_ROW,
  tencentRateCharges,
  tencentRateTableFor,
} from '@imbot/core/tencent';
import * as z from 'zod';
import type { Reply } from '../api-server.js';
import type { CallbackResult } from '../callbacks.js';
import type { Message } from '../chat-state.js';
import { type Clock, realClock } from '../clock.js';
import {
  ClientRefused,
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
import { type Answer, type ApiContext, type StreamMsg, tencentApis } from './apis.js';
import { type CallbackTarget, postTencentCallback } from './callbacks.js';
import { checkTencentRequest } from './checks.js';
import { userMsgBody } from './elements.js';
import { historyApis } from './history.js';
import { GROUP_FREQUENCY_LIMIT, ROBOT_PREFIX, FREQUENCY_LIMIT as TENCENT_FREQUENCY_LIMIT } from './rules.js';
import { type Profile, type Robot, TencentState } from './state.js';

export const tencentOptions = z.object({
  sdkAppId: z.number().int().positive(),
  secretKey: z.string().min(1),
  admin: z.string().min(1),
  /** Where robot callbacks (`Bot.OnC2CMessage`, `Bot.OnGroupMessage`) are posted. */
  callbackUrl: z.url().optional(),
  /** With a token, callbacks carry `RequestTime` and `Sign`. */
  callbackToken: z.string().optional(),
  /**
   * Calls of one API allowed in any second, replacing the documented per-API limits (200 a second
   * for most). The per-group limit (40 messages a second in one group) and the per-stream one stay;
   * `limits` changes those. Default: the documented table.
   */
  rateLimit: z.number().int().positive().optional(),
  /**
   * The app's plan over the documented table, by row name (`{ 'openim/sendmsg': 400,
   * 'group-messages': 100 }`): the names of `tencentRateTable` in `@imbot/core/tencent`.
   */
  limits: z.record(z.string(), z.number()).optional(),
  /** A stream with no call for this long ends, unfinished. Default 15 000 ms. */
  streamIdleMs: z.number().int().positive().optional(),
  /** Robots that exist from the start (and again after `reset()`). */
  robots: z.array(z.string().startsWith('@RBT#')).max(20).optional(),
});
export type TencentEmulatorOptions = z.input<typeof tencentOptions>;

/**
 * The emulated Tencent Cloud Chat app: answers `/v4/…` REST calls with the cloud's checks, limits
 * and codes, plays the users who write to robots, and lets tests and people look inside.
 */
export class TencentEmulator extends CloudEmulator<TencentState> {
  protected readonly defaultGroupType = 'Public';
  protected readonly internalErrorCode = 10002;
  readonly sdkAppId: number;
  readonly admin: string;
  readonly secretKey: string;
  readonly #options: z.output<typeof tencentOptions>;
  readonly #context: ApiContext;
  readonly #rates: readonly RateRow[];
  #callbackTarget: CallbackTarget | undefined;

  constructor(options: TencentEmulatorOptions, faults: Faults, clock: Clock = realClock) {
    const parsed = tencentOptions.parse(options);
    const rates = tencentRateTableFor(parsed.limits, 'tencent.limits');
    super(new TencentState(), faults, {
      limitPerSecond: defaultPerSecond(rates, parsed.rateLimit),
      streamIdleMs: parsed.streamIdleMs ?? 15_000,
      clock,
    });
    this.#options = parsed;
    this.#rates = rates;
    this.sdkAppId = this.#options.sdkAppId;
    this.admin = this.#options.admin;
    this.secretKey = this.#options.secretKey;
    this.#seedRobots();
    if (this.#options.callbackUrl) this.setCallback(this.#options.callbackUrl, this.#options.callbackToken);
    this.#context = {
      state: this.state,
      admin: this.admin,
      streamIdleMs: this.#options.streamIdleMs ?? 15_000,
      now: () => this.clock.now(),
      monotonic: () => this.clock.elapsed(),
      dedup: new Map(),
      streams: new Map<string, StreamMsg>(),
      deliveredToRobot: (message, msgBody, { seq, random }) => {
        void this.#deliver(message, msgBody, seq, random, 'RESTAPI');
      },
    };
  }

  /** Sets (or clears) where robot callbacks go, and the token that signs them. */
  setCallback(url: string | undefined, token?: string): void {
    this.#callbackTarget = url ? { url, token, sdkAppId: this.sdkAppId } : undefined;
  }

  /**
   * A user writes to a robot: the message is recorded, then `Bot.OnC2CMessage` is posted to the
   * callback URL; resolves with the app's answer (at most 2 s later). A robot id the app does not
   * have throws `ClientRefused`.
   */
  async userSends(input: UserSends): Promise<UserSendResult> {
    const { from, to, text, attachment } = userSendsInput.parse(input);
    // A client can only open a chat with a robot the app has; other ids are users writing to users.
    if (to.startsWith(ROBOT_PREFIX) && !this.state.validRobot(to)) {
      throw new ClientRefused(`${to} is not a robot of this app: a bot app creates its robot when it starts`);
    }
    const message = this.addUserMessage(
      this.state.newMsgKey(),
      from,
      to,
      text,
      attachment ? { content: attachment } : {},
    );
    return this.#fromClient(message, userMsgBody(text, attachment));
  }

  /**
   * A user's TUIKit sends a robot one of its AI-robot messages, a `TIMCustomElem` whose `Data` is
   * `data`: its Stop (`{chatbotPlugin: 2, src: 22, msgKey}`) or the legacy plugin's greeting
   * (`{chatbotPlugin: 1, src: 7}`). TUIKit sends them online-only and hides them (`onlineUserOnly`,
   * `excludedFromLastMessage`: notes/tuikit-protocol.md §3.3, §4), so no conversation keeps them:
   * `Bot.OnC2CMessage` fires with `OnlineOnlyFlag: 1`.
   */
  async userSendsChatbot(input: {
    from: string;
    to: string;
    data: Record<string, unknown>;
  }): Promise<UserSendResult> {
    const { from, to, data } = input;
    if (!this.state.validRobot(to)) throw new ClientRefused(`${to} is not a robot of this app`);
    const now = this.clock.now();
    const message: Message = {
      msgKey: this.state.newMsgKey(),
      from,
      to,
      kind: 'custom',
      text: '',
      chatbot: data,
      state: 'finished',
      time: now,
      updatedAt: now,
      calls: 1,
    };
    const msgBody = [{ MsgType: 'TIMCustomElem', MsgContent: { Data: JSON.stringify(data) } }];
    const [seq, random] = message.msgKey.split('_').map(Number) as [number, number];
    const callback = await this.#deliver(message, msgBody, seq, random, 'Web', true);
    return callback ? { message, callback } : { message };
  }

  /**
   * A user's client sends a robot the legacy plugin's pass-through message (`{chatbotPlugin: 1,
   * src: 3, data}`): the cloud posts `Chatbot.OnC2CSignalMessage` with `Data` and waits for the
   * answer, whose `RspData` (with `ErrorCode` 0) goes back to the chatbot. Stored nowhere.
   */
  async userSendsSignal(input: {
    from: string;
    to: string;
    data: string;
  }): Promise<CallbackResult | undefined> {
    const { from, to, data } = input;
    if (!this.state.validRobot(to)) throw new ClientRefused(`${to} is not a robot of this app`);
    const target = this.#callbackTarget;
    if (!target) return undefined;
    const now = this.clock.now();
    const random = randomUint32();
    const seq = randomUint32();
    const body = {
      CallbackCommand: 'Chatbot.OnC2CSignalMessage',
      From_Account: from,
      To_Account: to,
      MsgSeq: seq,
      MsgRandom: random,
      MsgKey: `${seq}_${random}_${Math.floor(now / 1000)}`,
      EventTime: now,
      Data: data,
    };
    const callback = await postTencentCallback(target, 'Chatbot.OnC2CSignalMessage', 'Web', body, now);
    this.recordCallback(callback);
    return callback;
  }

  /**
   * A user writes in a group (made on first use, with the user in it) and @-mentions robots: the
   * message is recorded and one `Bot.OnGroupMessage` naming every mentioned robot that is a member
   * in `AtRobots_Account` is posted.
   */
  async userSendsToGroup(input: UserSendsToGroup): Promise<UserSendResult> {
    const data = userSendsToGroupInput.parse(input);
    this.groupForUser(data.groupId, data.from);
    const text = mentionText(data.text, data.mentions);
    const message = this.addUserMessage(this.state.newMsgKey(), data.from, data.groupId, text, {
      groupId: data.groupId,
      ...(data.mentions.length > 0 ? { mentions: data.mentions } : {}),
    });
    const msgBody = [{ MsgType: 'TIMTextElem', MsgContent: { Text: text } }];
    return this.#deliverToGroup(message, msgBody, data.mentions);
  }

  /**
   * A press travels as a `TIMCustomElem` whose `Data` is the button-press JSON; in a group the
   * client also @-mentions the robot that sent the card, so that the robot callback fires.
   */
  protected async deliverPress(card: Message, from: string, value: string): Promise<UserSendResult> {
    const data = JSON.stringify({
      businessID: BUTTON_PRESS_BUSINESS_ID,
      value,
      messageId: card.seq ? String(card.seq) : card.msgKey,
    });
    const msgBody = [
      { MsgType: 'TIMCustomElem', MsgContent: { Data: data, Desc: value, Ext: '', Sound: '' } },
    ];
    if (card.groupId) {
      const message = this.addUserMessage(this.state.newMsgKey(), from, card.groupId, value, {
        groupId: card.groupId,
        mentions: [card.from],
        pressed: true,
      });
      return this.#deliverToGroup(message, msgBody, [card.from]);
    }
    const message = this.addUserMessage(this.state.newMsgKey(), from, card.from, value, { pressed: true });
    return this.#fromClient(message, msgBody);
  }

  /** A one-to-one message a user's client sent: `Bot.OnC2CMessage` when it went to a robot. */
  async #fromClient(message: Message, msgBody: unknown[]): Promise<UserSendResult> {
    if (!this.state.validRobot(message.to)) return { message };
    const [seq, random] = message.msgKey.split('_').map(Number) as [number, number];
    const callback = await this.#deliver(message, msgBody, seq, random, 'Web');
    return callback ? { message, callback } : { message };
  }

  /** Numbers a group message and posts `Bot.OnGroupMessage` for the mentioned robots in the group. */
  async #deliverToGroup(message: Message, msgBody: unknown[], mentions: string[]): Promise<UserSendResult> {
    const groupId = message.groupId as string;
    // Numbered in the group whether or not a robot is told of it, as every group message is.
    message.seq = this.state.nextGroupSeq(groupId);
    const now = message.time;
    const robots = mentions.filter((id) => this.state.validRobot(id) && this.state.isMember(groupId, id));
    const target = this.#callbackTarget;
    if (!target && robots.length > 0) this.state.emit('unheard', message);
    if (!target || robots.length === 0) return { message };
    const body = {
      CallbackCommand: 'Bot.OnGroupMessage',
      GroupId: groupId,
      Type: this.state.group(groupId)?.type ?? 'Public',
      From_Account: message.from,
      Operator_Account: message.from,
      Random: randomUint32(),
      MsgSeq: message.seq,
      MsgTime: Math.floor(now / 1000),
      OnlineOnlyFlag: 0,
      MsgBody: msgBody,
      AtRobots_Account: robots,
      CloudCustomData: '',
      EventTime: now,
    };
    const callback = await postTencentCallback(target, 'Bot.OnGroupMessage', 'Web', body, now);
    this.recordCallback(callback);
    return { message, callback };
  }

  /** Every robot ever created, with its profile; deleted ones have `valid: false`. */
  robots(): (Robot & { profile: Profile })[] {
    return [...this.state.robots.values()].map((robot) => ({
      ...robot,
      profile: this.state.profiles.get(robot.userId) ?? {},
    }));
  }

  /** The robots in neutral words, for the console. */
  bots(): EmulatedBot[] {
    return this.robots().map((r) => {
      const bot: EmulatedBot = { userId: r.userId, valid: r.valid };
      if (r.profile.nick !== undefined) bot.name = r.profile.nick;
      if (r.profile.faceUrl !== undefined) bot.avatarUrl = r.profile.faceUrl;
      if (r.profile.selfSignature !== undefined) bot.description = r.profile.selfSignature;
      return bot;
    });
  }

  /** Forgets robots, profiles, messages, calls, callbacks and rate counters. */
  override reset(): void {
    super.reset();
    this.#context.dedup.clear();
    this.#context.streams.clear();
    this.#seedRobots();
  }

  #seedRobots(): void {
    for (const id of this.#options.robots ?? []) this.state.putRobot(id);
  }

  /** The Tencent REST API's rules: URL and UserSig checks, JSON bodies, HTTP 200 with an envelope. */
  protected check(url: URL, _req: IncomingMessage, text: string) {
    const check = checkTencentRequest(url, this.#options, this.clock.now());
    if (!check.ok) return { reply: tencentReply({ ErrorCode: check.code, ErrorInfo: check.info }) };
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      const reply = tencentReply({
        ErrorCode: 60003,
        ErrorInfo: 'the body must be a JSON object ({} when empty)',
      });
      return { api: check.api, reply };
    }
    return { api: check.api, body: body as Record<string, unknown> };
  }

  protected rateCharges(api: string, body: Record<string, unknown>): readonly RateCharge[] {
    const charges = tencentRateCharges(api, body, this.#rates);
    return emulatedCharges(charges, this.#rates, api, this.#options.rateLimit);
  }

  protected frequencyLimited(_api: string, charge: RateCharge): Reply {
    if (charge.row === TENCENT_GROUP_ROW) {
      return tencentReply({
        ErrorCode: GROUP_FREQUENCY_LIMIT,
        ErrorInfo: `message frequency over the limit: at most ${charge.limit} messages a second in one group`,
      });
    }
    return tencentReply({
      ErrorCode: TENCENT_FREQUENCY_LIMIT,
      ErrorInfo: 'REST API call frequency over the limit',
    });
  }

  protected failure(code: number, info: string): Reply {
    return tencentReply({ ErrorCode: code, ErrorInfo: info });
  }

  protected handleCall(api: string, body: Record<string, unknown>): Reply {
    const handler = tencentApis[api] ?? historyApis[api];
    return tencentReply(
      handler
        ? handler(body, this.#context)
        : { ErrorCode: 60002, ErrorInfo: `the emulator does not implement ${api}` },
    );
  }

  async #deliver(
    message: Message,
    msgBody: unknown[],
    seq: number,
    random: number,
    optPlatform: string,
    onlineOnly = false,
  ): Promise<CallbackResult | undefined> {
    const target = this.#callbackTarget;
    if (!target) {
      this.state.emit('unheard', message);
      return undefined;
    }
    const now = this.clock.now();
    const body = {
      CallbackCommand: 'Bot.OnC2CMessage',
      From_Account: message.from,
      To_Account: message.to,
      MsgSeq: seq,
      MsgRandom: random,
      MsgTime: Math.floor(message.time / 1000),
      MsgKey: message.msgKey,
      MsgId: message.msgKey,
      OnlineOnlyFlag: onlineOnly ? 1 : 0,
      SendMsgResult: 0,
      ErrorInfo: 'send msg succeed',
      MsgBody: msgBody,
      CloudCustomData: '',
      EventTime: now,
    };
    const callback = await postTencentCallback(target, 'Bot.OnC2CMessage', optPlatform, body, now);
    this.recordCallback(callback);
    return callback;
  }
}

/** The cloud's answer: HTTP 200 and the envelope, with a request id as the cloud sends. */
function tencentReply(answer: Answer): Reply {
  const { ErrorCode, ErrorInfo, ...fields } = answer;
  const json = {
    ActionStatus: ErrorCode === 0 ? 'OK' : 'FAIL',
    ErrorInfo: ErrorInfo ?? '',
    ErrorCode,
    RequestId: `Id-${randomBytes(8).toString('hex')}`,
    ...fields,
  };
  return { status: 200, errorCode: ErrorCode, json };
}
