import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUint32, TENCENT_FREQUENCY_LIMIT } from '@imbot/core';
import { z } from 'zod';
import { ApiServer, type CallRecord, type CloudProtocol, type Reply } from '../api-server.js';
import type { CallbackResult } from '../callbacks.js';
import type { Message } from '../chat-state.js';
import {
  type EmulatedBot,
  type EmulatedCloud,
  mentionText,
  type UserSendResult,
  type UserSends,
  type UserSendsToGroup,
} from '../cloud.js';
import type { Faults } from '../faults.js';
import type { WindowCounters } from '../window.js';
import { type Answer, type ApiContext, type StreamMsg, settleIdle, tencentApis } from './apis.js';
import { type CallbackTarget, postTencentCallback } from './callbacks.js';
import { checkTencentRequest } from './checks.js';
import { type Profile, type Robot, TencentState } from './state.js';

export const tencentOptions = z.object({
  sdkAppId: z.number().int().positive(),
  secretKey: z.string().min(1),
  admin: z.string().min(1),
  /** Where robot callbacks (`Bot.OnC2CMessage`, `Bot.OnGroupMessage`) are posted. */
  callbackUrl: z.url().optional(),
  /** With a token, callbacks carry `RequestTime` and `Sign`. */
  callbackToken: z.string().optional(),
  /** Calls of one API allowed in any second. Default 200, as the cloud. */
  rateLimit: z.number().int().positive().optional(),
  /** A stream with no call for this long ends, unfinished. Default 15 000 ms. */
  streamIdleMs: z.number().int().positive().optional(),
  /** Robots that exist from the start (and again after `reset()`). */
  robots: z.array(z.string().startsWith('@RBT#')).max(20).optional(),
});
export type TencentEmulatorOptions = z.input<typeof tencentOptions>;

const MAX_CALLBACK_RECORDS = 10_000;

/**
 * The emulated Tencent Cloud Chat app: answers `/v4/…` REST calls with the cloud's checks, limits
 * and codes, plays the users who write to robots, and lets tests and people look inside.
 */
export class TencentEmulator implements EmulatedCloud {
  readonly sdkAppId: number;
  readonly admin: string;
  readonly secretKey: string;
  readonly state: TencentState;
  readonly #options: z.output<typeof tencentOptions>;
  readonly #server: ApiServer;
  readonly #callbacks: CallbackResult[] = [];
  readonly #context: ApiContext;
  #callbackTarget: CallbackTarget | undefined;

  constructor(options: TencentEmulatorOptions, faults: Faults) {
    this.#options = tencentOptions.parse(options);
    this.sdkAppId = this.#options.sdkAppId;
    this.admin = this.#options.admin;
    this.secretKey = this.#options.secretKey;
    this.state = new TencentState();
    this.#seedRobots();
    if (this.#options.callbackUrl) this.setCallback(this.#options.callbackUrl, this.#options.callbackToken);
    this.#context = {
      state: this.state,
      admin: this.admin,
      streamIdleMs: this.#options.streamIdleMs ?? 15_000,
      now: () => Date.now(),
      monotonic: () => performance.now(),
      dedup: new Map(),
      streams: new Map<string, StreamMsg>(),
      deliveredToRobot: (message, msgBody, { seq, random }) => {
        void this.#deliver(message, msgBody, seq, random, 'RESTAPI');
      },
    };
    this.#server = new ApiServer(this.#protocol(), faults, this.#options.rateLimit ?? 200);
  }

  /** Sets (or clears) where robot callbacks go, and the token that signs them. */
  setCallback(url: string | undefined, token?: string): void {
    this.#callbackTarget = url ? { url, token, sdkAppId: this.sdkAppId } : undefined;
  }

  /**
   * A user writes to a robot: the message is recorded, then `Bot.OnC2CMessage` is posted to the
   * callback URL; resolves with the app's answer (at most 2 s later).
   */
  async userSends(input: UserSends): Promise<UserSendResult> {
    const { from, to, text } = z
      .object({ from: z.string().min(1), to: z.string().min(1), text: z.string() })
      .parse(input);
    const now = Date.now();
    const message = this.state.add({
      msgKey: this.state.newMsgKey(),
      from,
      to,
      kind: 'text',
      text,
      state: 'finished',
      time: now,
      updatedAt: now,
      calls: 1,
    });
    if (!this.state.validRobot(to)) return { message };
    const msgBody = [{ MsgType: 'TIMTextElem', MsgContent: { Text: text } }];
    const [seq, random] = message.msgKey.split('_').map(Number) as [number, number];
    const callback = await this.#deliver(message, msgBody, seq, random, 'Web');
    return callback ? { message, callback } : { message };
  }

  /**
   * A user writes in a group and @-mentions robots: the message is recorded and one
   * `Bot.OnGroupMessage` naming every mentioned robot in `AtRobots_Account` is posted.
   */
  async userSendsToGroup(input: UserSendsToGroup): Promise<UserSendResult> {
    const data = z
      .object({
        from: z.string().min(1),
        groupId: z.string().min(1),
        text: z.string(),
        mentions: z.array(z.string()),
      })
      .parse(input);
    const text = mentionText(data.text, data.mentions);
    const now = Date.now();
    const message = this.state.add({
      msgKey: this.state.newMsgKey(),
      from: data.from,
      to: data.groupId,
      groupId: data.groupId,
      kind: 'text',
      text,
      state: 'finished',
      time: now,
      updatedAt: now,
      calls: 1,
    });
    const robots = data.mentions.filter((id) => this.state.validRobot(id));
    const target = this.#callbackTarget;
    if (!target || robots.length === 0) return { message };
    const body = {
      CallbackCommand: 'Bot.OnGroupMessage',
      GroupId: data.groupId,
      Type: 'Public',
      From_Account: data.from,
      Operator_Account: data.from,
      Random: randomUint32(),
      MsgSeq: this.state.nextGroupSeq(data.groupId),
      MsgTime: Math.floor(now / 1000),
      OnlineOnlyFlag: 0,
      MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: text } }],
      AtRobots_Account: robots,
      CloudCustomData: '',
      EventTime: now,
    };
    const callback = await postTencentCallback(target, 'Bot.OnGroupMessage', 'Web', body, now);
    this.#record(callback);
    return { message, callback };
  }

  /** The messages between a user and a robot (or any two users), oldest first, as the user sees them. */
  conversation(userId: string, robotId: string): Message[] {
    return this.#settled(this.state.conversation(userId, robotId));
  }

  /** The messages of a group, oldest first. */
  groupConversation(groupId: string): Message[] {
    return this.#settled(this.state.groupConversation(groupId));
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

  /** Every REST call so far (the latest 10 000), oldest first. */
  calls(): CallRecord[] {
    return this.#server.calls();
  }

  /** Every callback posted so far, oldest first. */
  callbacks(): CallbackResult[] {
    return [...this.#callbacks];
  }

  /** Per API: calls accepted, calls refused for the frequency limit, and the busiest second seen. */
  rate(): Record<string, WindowCounters> {
    return this.#server.rate();
  }

  /** Forgets robots, profiles, messages, calls, callbacks and rate counters. */
  reset(): void {
    this.state.clear();
    this.#server.reset();
    this.#callbacks.length = 0;
    this.#context.dedup.clear();
    this.#context.streams.clear();
    this.#seedRobots();
  }

  #seedRobots(): void {
    for (const id of this.#options.robots ?? []) this.state.putRobot(id);
  }

  /** Drops the connections of calls left hanging by a `hang` fault. */
  close(): void {
    this.#server.close();
  }

  /** Answers one `/v4/…` request. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    return this.#server.serve(req, res, url);
  }

  /** The Tencent REST API's rules: URL and UserSig checks, JSON bodies, HTTP 200 with an envelope. */
  #protocol(): CloudProtocol {
    return {
      check: (url, _req, text) => {
        const check = checkTencentRequest(url, this.#options, Date.now());
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
      },
      frequencyLimited: () =>
        tencentReply({
          ErrorCode: TENCENT_FREQUENCY_LIMIT,
          ErrorInfo: 'REST API call frequency over the limit',
        }),
      failure: (code, info) => tencentReply({ ErrorCode: code, ErrorInfo: info }),
      handle: (api, body) => {
        const handler = tencentApis[api];
        return tencentReply(
          handler
            ? handler(body, this.#context)
            : { ErrorCode: 60002, ErrorInfo: `the emulator does not implement ${api}` },
        );
      },
    };
  }

  #settled(messages: Message[]): Message[] {
    for (const message of messages) settleIdle(message, this.#context);
    return messages.map((m) => ({ ...m }));
  }

  #record(callback: CallbackResult): void {
    this.#callbacks.push(callback);
    if (this.#callbacks.length > MAX_CALLBACK_RECORDS) this.#callbacks.shift();
  }

  async #deliver(
    message: Message,
    msgBody: unknown[],
    seq: number,
    random: number,
    optPlatform: string,
  ): Promise<CallbackResult | undefined> {
    const target = this.#callbackTarget;
    if (!target) return undefined;
    const now = Date.now();
    const body = {
      CallbackCommand: 'Bot.OnC2CMessage',
      From_Account: message.from,
      To_Account: message.to,
      MsgSeq: seq,
      MsgRandom: random,
      MsgTime: Math.floor(message.time / 1000),
      MsgKey: message.msgKey,
      MsgId: message.msgKey,
      OnlineOnlyFlag: 0,
      SendMsgResult: 0,
      ErrorInfo: 'send msg succeed',
      MsgBody: msgBody,
      CloudCustomData: '',
      EventTime: now,
    };
    const callback = await postTencentCallback(target, 'Bot.OnC2CMessage', optPlatform, body, now);
    this.#record(callback);
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
