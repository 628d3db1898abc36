import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUint32, TENCENT_FREQUENCY_LIMIT } from '@imbot/core';
import { z } from 'zod';
import type { Faults } from '../faults.js';
import { BodyTooLarge, readBody, sendJson, sendText } from '../http.js';
import { SlidingWindow, type WindowCounters } from '../window.js';
import { type Answer, type ApiContext, type StreamMsg, settleIdle, tencentApis } from './apis.js';
import { type CallbackResult, type CallbackTarget, postCallback } from './callbacks.js';
import { checkTencentRequest } from './checks.js';
import { type Message, type Profile, type Robot, TencentState } from './state.js';

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

/** One REST call and what the emulator did with it. */
export interface CallRecord {
  id: number;
  /** Milliseconds since the epoch at arrival. */
  time: number;
  api: string;
  /** The query string's parameters, the UserSig shortened to its first 12 characters. */
  query: Record<string, string>;
  body: unknown;
  /** HTTP status sent; absent when the connection was dropped or left hanging. */
  status?: number;
  errorCode?: number;
  answer?: unknown;
  /** The fault that struck, if one did. */
  fault?: string;
  durationMs: number;
}

export interface UserSends {
  from: string;
  to: string;
  text: string;
}

export interface UserSendsToGroup {
  from: string;
  groupId: string;
  text: string;
  /** Robots @-mentioned; each gets `@<id> ` in front of the text unless the text already names it. */
  mentions: string[];
}

export interface UserSendResult {
  message: Message;
  /** The callback and the app's answer; absent when no callback URL is set or no robot was addressed. */
  callback?: CallbackResult;
}

/** Request bodies larger than this are refused with HTTP 413. */
const MAX_BODY_BYTES = 1024 * 1024;
const MAX_CALL_RECORDS = 10_000;

/**
 * The emulated Tencent Cloud Chat app: answers `/v4/…` REST calls with the cloud's checks, limits
 * and codes, plays the users who write to robots, and lets tests and people look inside.
 */
export class TencentEmulator {
  readonly sdkAppId: number;
  readonly admin: string;
  readonly secretKey: string;
  readonly state: TencentState;
  readonly #options: z.output<typeof tencentOptions>;
  readonly #faults: Faults;
  readonly #windows = new Map<string, SlidingWindow>();
  readonly #calls: CallRecord[] = [];
  readonly #callbacks: CallbackResult[] = [];
  readonly #hanging = new Set<ServerResponse>();
  readonly #context: ApiContext;
  #callbackTarget: CallbackTarget | undefined;
  #nextCallId = 1;

  constructor(options: TencentEmulatorOptions, faults: Faults) {
    this.#options = tencentOptions.parse(options);
    this.sdkAppId = this.#options.sdkAppId;
    this.admin = this.#options.admin;
    this.secretKey = this.#options.secretKey;
    this.#faults = faults;
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
    const prefix = data.mentions
      .filter((id) => !data.text.includes(`@${id}`))
      .map((id) => `@${id} `)
      .join('');
    const text = `${prefix}${data.text}`;
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
    const callback = await postCallback(target, 'Bot.OnGroupMessage', 'Web', body, now);
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

  /** Every REST call so far (the latest 10 000), oldest first. */
  calls(): CallRecord[] {
    return [...this.#calls];
  }

  /** Every callback posted so far, oldest first. */
  callbacks(): CallbackResult[] {
    return [...this.#callbacks];
  }

  /** Per API: calls accepted, calls refused for the frequency limit, and the busiest second seen. */
  rate(): Record<string, WindowCounters> {
    return Object.fromEntries([...this.#windows].map(([api, window]) => [api, { ...window.counters }]));
  }

  /** Forgets robots, profiles, messages, calls, callbacks and rate counters. */
  reset(): void {
    this.state.clear();
    this.#calls.length = 0;
    this.#callbacks.length = 0;
    this.#windows.clear();
    this.#context.dedup.clear();
    this.#context.streams.clear();
    this.#seedRobots();
  }

  #seedRobots(): void {
    for (const id of this.#options.robots ?? []) this.state.putRobot(id);
  }

  /** Drops the connections of calls left hanging by a `hang` fault. */
  close(): void {
    for (const res of this.#hanging) res.destroy();
    this.#hanging.clear();
  }

  /** Answers one `/v4/…` request. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const started = performance.now();
    const query = Object.fromEntries(url.searchParams);
    if (query.usersig) query.usersig = `${query.usersig.slice(0, 12)}…`;
    const record: CallRecord = {
      id: this.#nextCallId++,
      time: Date.now(),
      api: url.pathname,
      query,
      body: undefined,
      durationMs: 0,
    };
    this.#calls.push(record);
    if (this.#calls.length > MAX_CALL_RECORDS) this.#calls.shift();
    const finish = (status: number | undefined, answer?: Answer) => {
      record.durationMs = performance.now() - started;
      if (status !== undefined) record.status = status;
      if (answer) {
        record.errorCode = answer.ErrorCode;
        record.answer = envelope(answer);
        sendJson(res, 200, record.answer);
      }
    };
    let text: string;
    try {
      text = await readBody(req, MAX_BODY_BYTES);
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        record.status = 413;
        sendText(res, 413, 'request body too large');
        return;
      }
      throw error;
    }
    const check = checkTencentRequest(url, this.#options, Date.now());
    if (check.ok) record.api = check.api;
    try {
      record.body = text ? JSON.parse(text) : undefined;
    } catch {
      record.body = text;
    }
    if (!check.ok) return finish(200, { ErrorCode: check.code, ErrorInfo: check.info });
    const body = record.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return finish(200, { ErrorCode: 60003, ErrorInfo: 'the body must be a JSON object ({} when empty)' });
    }
    // Stamped when admitted, so that the window sees arrivals in order.
    if (!this.#window(check.api).admit(performance.now())) {
      return finish(200, {
        ErrorCode: TENCENT_FREQUENCY_LIMIT,
        ErrorInfo: 'REST API call frequency over the limit',
      });
    }
    const plan = this.#faults.plan(check.api);
    if (plan.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, plan.delayMs));
    const fault = plan.fault;
    if (fault !== undefined) record.fault = typeof fault === 'string' ? fault : `error ${fault.errorCode}`;
    if (typeof fault === 'object') {
      const info = (fault.errorInfo ?? 'internal error, please retry').replaceAll(
        '{query}',
        url.search.slice(1),
      );
      return finish(200, { ErrorCode: fault.errorCode, ErrorInfo: info });
    }
    switch (fault) {
      case 'http-502':
        record.status = 502;
        record.durationMs = performance.now() - started;
        return sendText(res, 502, '502 Bad Gateway');
      case 'reset-before':
        record.durationMs = performance.now() - started;
        res.destroy();
        return;
      case 'malformed':
        record.status = 200;
        record.durationMs = performance.now() - started;
        return sendText(res, 200, '<html><body>upstream error</body></html>', 'text/html');
      case 'hang':
        this.#hanging.add(res);
        res.on('close', () => this.#hanging.delete(res));
        return;
    }
    const handler = tencentApis[check.api];
    const answer = handler
      ? handler(body as Record<string, unknown>, this.#context)
      : { ErrorCode: 60002, ErrorInfo: `the emulator does not implement ${check.api}` };
    if (fault === 'reset-after') {
      record.errorCode = answer.ErrorCode;
      record.durationMs = performance.now() - started;
      res.destroy();
      return;
    }
    finish(200, answer);
  }

  #window(api: string): SlidingWindow {
    let window = this.#windows.get(api);
    if (!window) {
      window = new SlidingWindow(this.#options.rateLimit ?? 200, 1000);
      this.#windows.set(api, window);
    }
    return window;
  }

  #settled(messages: Message[]): Message[] {
    for (const message of messages) settleIdle(message, this.#context);
    return messages.map((m) => ({ ...m }));
  }

  #record(callback: CallbackResult): void {
    this.#callbacks.push(callback);
    if (this.#callbacks.length > MAX_CALL_RECORDS) this.#callbacks.shift();
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
    const callback = await postCallback(target, 'Bot.OnC2CMessage', optPlatform, body, now);
    this.#record(callback);
    return callback;
  }
}

/** The cloud's envelope around an answer, with a request id as the cloud sends. */
function envelope(answer: Answer): Record<string, unknown> {
  const { ErrorCode, ErrorInfo, ...fields } = answer;
  return {
    ActionStatus: ErrorCode === 0 ? 'OK' : 'FAIL',
    ErrorInfo: ErrorInfo ?? '',
    ErrorCode,
    RequestId: `Id-${randomBytes(8).toString('hex')}`,
    ...fields,
  };
}
