import type { z } from 'zod';
import { CloudClient } from '../client/cloud-client.js';
import { ValidationError } from '../errors.js';
import type { RateLimiter } from '../limits/rate-limiter.js';
import type { ButtonMode } from '../message/button-signer.js';
import type { ObservabilityOptions } from '../observe/telemetry.js';
import type { BotPlatform } from '../platform.js';
import type { PlanLimits } from '../rate-rows.js';
import { type Secret, SecretSource } from '../secret.js';
import type { StreamJournal } from '../stream/journal.js';
import type { StreamSession, StreamSessionOptions } from '../stream/session.js';
import type { StreamCall, StreamTransport } from '../stream/transport.js';
import type { TypingIndicator } from '../stream/typing.js';
import { parseInput } from '../validation.js';
import type { CallOptions } from '../wire/request.js';
import type { RetryMode, RetryPolicy } from '../wire/retry.js';
import type { TransportKind } from '../wire/runtime.js';
import { AdminUserSig } from './credentials.js';
import { textElement, typingElement, withMentions } from './elements.js';
import { TencentApiError } from './errors.js';
import type { HistoryPage } from './history.js';
import { TencentPlatform } from './platform.js';
import { randomUint32, TencentProtocol } from './protocol.js';
import { tencentRateCharges, tencentRateTableFor } from './rate-table.js';
import { type TencentRegion, tencentRegions } from './regions.js';
import {
  addGroupMemberAnswer,
  type CreateRobotInput,
  clientOptions,
  createRobotInput,
  envelope,
  type GroupMessagesInput,
  getAllRobotsAnswer,
  getProfilesInput,
  groupHistoryAnswer,
  groupId as groupIdSchema,
  groupInfoAnswer,
  groupMembersInput,
  groupMessagesInput,
  type MsgBodyElement,
  openStreamInput,
  portraitGetAnswer,
  profileInput,
  type RoamMessagesInput,
  roamMessagesInput,
  roamMsgAnswer,
  robotId,
  type SendGroupMsgInput,
  type SendMsgInput,
  type SendStreamMsgInput,
  type SendTypingInput,
  sendGroupMsgAnswer,
  sendGroupMsgInput,
  sendMsgAnswer,
  sendMsgInput,
  sendStreamMsgAnswer,
  sendStreamMsgInput,
  sendTypingInput,
  setMsgReadInput,
  type TencentProfileInput,
  userId as userIdSchema,
} from './schemas.js';
import { RobotStreamTransport, StreamMsgTransport } from './streams.js';
import { TuikitStreamTransport } from './tuikit-stream.js';

/** TUIKit shows a typing signal for 5 s and renews its own every 4 s: so does the indicator. */
const TYPING_RENEW_MS = 4000;

export interface TencentImOptions extends ObservabilityOptions {
  /** The app's SDKAppID, from the Chat console. */
  sdkAppId: number;
  /** An App admin identifier: every REST call is made as this account. */
  admin: string;
  /** The app's secret key: the client makes and renews the admin UserSig itself. */
  secretKey?: Secret;
  /** Or: a function that returns an admin UserSig, for apps that keep the key elsewhere. */
  userSig?: () => string | Promise<string>;
  /** The data centre of the SDKAppID. */
  region?: TencentRegion;
  /** Or: any origin that speaks the REST API, such as the emulator's `url`. */
  baseUrl?: string;
  /** With `baseUrl`: the backup domain to move to when it fails (the emulator's `tencent.backupUrl`). */
  backupBaseUrl?: string;
  /** Deadline of one HTTP request. Default 10 000 ms. */
  timeoutMs?: number;
  /** Life of the UserSigs made from `secretKey`. Default one day; renewed at 80 %. */
  userSigTtlSeconds?: number;
  /** Retries of transient failures. Default 3 retries, 100 ms to 5 s full-jitter backoff. */
  retry?: Partial<RetryPolicy>;
  /**
   * The call budget: a `RateLimiter` (share one between clients of the same app), or `false` to
   * switch limiting off. Default: 200 calls of each API in any second, as the cloud allows.
   */
  rateLimit?: RateLimiter | false;
  /**
   * The app's plan where it differs from the documented limits, by the rate table's row names:
   * `{ 'group-messages': 50, 'openim/sendmsg': 400 }`. An unknown name or a limit that is not a
   * positive whole number is a `ValidationError` at construction. Default: the documented table.
   */
  limits?: PlanLimits;
  /** Most sockets kept open to the cloud. Default 128. */
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
   * The callback token of the Chat console's callback settings: callbacks are signed with it, and
   * the webhook receivers refuse unsigned ones. Kept private, never logged.
   */
  callbackToken?: Secret;
  /**
   * How cards carry their `message` buttons: `'signed'` (default) binds each value to the bot and
   * the conversation under a key derived from the app's secret, so that the receivers refuse a
   * press a client made up (`ButtonPressRefusedError`); `'raw'` sends values as they are and lets
   * any press through, for clients that read the values themselves.
   */
  buttons?: ButtonMode;
  /**
   * How answers stream (each session may choose with `openStream(target, { format })`):
   * `'stream'` (default) through the stream APIs (`send_stream_msg`, `stream_msg`), which clients
   * from Web SDK 4.2.4 and native 8.9 render; `'tuikit'` as TUIKit's AI-robot message
   * (`chatbotPlugin: 2`), one custom message rewritten as it grows, which TUIKit's robot chat
   * renders with its thinking bubble and Stop button.
   */
  streamFormat?: StreamFormat;
}

/** How a Tencent answer streams: the stream APIs, or TUIKit's AI-robot custom message. */
export type StreamFormat = 'stream' | 'tuikit';

/** A stream session's options on Tencent: the session's, and the format it streams in. */
export interface TencentStreamOptions extends StreamSessionOptions {
  /** Default: the client's `streamFormat`. */
  format?: StreamFormat | undefined;
}

/** A user's profile as the library names it; fields the user never set are absent. */
export interface TencentProfile {
  userId: string;
  nick?: string;
  faceUrl?: string;
  selfSignature?: string;
}

/**
 * Where a stream goes. `{ from, to }`: a robot streams to a user with `send_stream_msg` (or, with
 * `api: 'stream_msg'`, any account with `stream_msg/send_c2c_stream_msg`). `{ groupId }`: a stream
 * into a group with `stream_msg/send_group_stream_msg`, sent as `from` (default: the admin), that
 * @-mentions the users in `mention`.
 */
export type StreamTarget =
  | { from: string; to: string; api?: 'robot' | 'stream_msg'; format?: StreamFormat | undefined }
  | {
      from?: string;
      groupId: string;
      mention?: readonly string[] | undefined;
      format?: StreamFormat | undefined;
    };

const PROFILE_TAGS = {
  nick: 'Tag_Profile_IM_Nick',
  faceUrl: 'Tag_Profile_IM_Image',
  selfSignature: 'Tag_Profile_IM_SelfSignature',
} as const;

/** portrait_get takes at most this many accounts per call. */
const PROFILES_PER_CALL = 100;

/**
 * A client for the Tencent Cloud Chat (IM) REST API, made for robot accounts (`@RBT#…`): create,
 * list and delete robots, stream text as a robot, send messages, read and write profiles. Inputs are
 * checked before anything is sent; calls are rate-limited as the cloud counts them, retried when that
 * is safe, and every failure is a typed `ImbotError` with no secret in it.
 *
 * @example
 * const im = new TencentIm({ sdkAppId: 1400000000, admin: 'administrator', secretKey, region: 'singapore' });
 * await im.createRobot({ userId: '@RBT#helper', nick: 'Helper' });
 * const { msgKey } = await im.sendStreamMsg({ from: '@RBT#helper', to: 'user01', chunk: 'Hello, ' });
 * await im.sendStreamMsg({ from: '@RBT#helper', to: 'user01', chunk: 'world', msgKey, finish: true });
 */
export class TencentIm extends CloudClient<StreamTarget> {
  readonly sdkAppId: number;
  readonly admin: string;
  readonly #callbackToken: SecretSource | undefined;
  readonly #secretKey: SecretSource | undefined;
  readonly #buttons: ButtonMode | undefined;
  readonly #streamFormat: StreamFormat;
  #platform: TencentPlatform | undefined;

  constructor(options: TencentImOptions) {
    const o = parseInput(clientOptions, options, 'options', TencentIm);
    const region = o.region ? tencentRegions[o.region as TencentRegion] : undefined;
    const secretKey = o.secretKey === undefined ? undefined : new SecretSource(o.secretKey, 'secretKey');
    const callbackToken =
      o.callbackToken === undefined ? undefined : new SecretSource(o.callbackToken, 'callbackToken');
    const userSig = new AdminUserSig(
      secretKey !== undefined
        ? {
            secretKey,
            sdkAppId: o.sdkAppId,
            admin: o.admin,
            ttlSeconds: o.userSigTtlSeconds ?? 86_400,
          }
        : { userSig: o.userSig as () => string | Promise<string> },
    );
    const table = tencentRateTableFor(o.limits as PlanLimits | undefined);
    super({
      ...options,
      charges: (api, fields) => tencentRateCharges(api, fields, table),
      protocol: new TencentProtocol(userSig, { sdkAppId: o.sdkAppId, identifier: o.admin }),
      app: `tencent:${o.sdkAppId}`,
      domains: region ?? { baseUrl: o.baseUrl as string, backupBaseUrl: o.backupBaseUrl },
      callsPerSecond: 200,
    });
    this.sdkAppId = o.sdkAppId;
    this.admin = o.admin;
    this.#callbackToken = callbackToken;
    this.#secretKey = secretKey;
    this.#buttons = o.buttons;
    this.#streamFormat = o.streamFormat ?? 'stream';
  }

  /** How this client's answers stream unless a session says otherwise (`streamFormat`). */
  get streamFormat(): StreamFormat {
    return this.#streamFormat;
  }

  /**
   * This client as a cloud-neutral `BotPlatform`, for `ensureBots`, the Express middleware and the
   * Bot Framework adapter.
   */
  get platform(): BotPlatform {
    this.#platform ??= new TencentPlatform(
      this,
      this.#callbackToken,
      this.#secretKey ?? this.#callbackToken,
      {
        buttons: this.#buttons,
      },
    );
    return this.#platform;
  }

  /** Creates a robot account; creating one that exists changes nothing (`create_robot`). */
  async createRobot(input: CreateRobotInput): Promise<void> {
    const robot = parseInput(createRobotInput, input, 'createRobot');
    await this.call(
      'openim_robot_http_svc/create_robot',
      { UserID: robot.userId, Nick: robot.nick, FaceUrl: robot.faceUrl, SelfSignature: robot.selfSignature },
      { retry: 'idempotent' },
    );
  }

  /** The user ids of every robot of the app (`get_all_robots`). */
  async getAllRobots(): Promise<string[]> {
    const answer = await this.#request(
      'openim_robot_http_svc/get_all_robots',
      {},
      getAllRobotsAnswer,
      'idempotent',
    );
    return answer.Robot_Account;
  }

  /** Marks a robot invalid (`delete_robot`); the cloud keeps the user id itself. */
  async deleteRobot(userId: string): Promise<void> {
    const id = parseInput(robotId, userId, 'deleteRobot.userId');
    await this.call('openim_robot_http_svc/delete_robot', { Robot_Account: id }, { retry: 'idempotent' });
  }

  /**
   * Sends one chunk of a streamed message from a robot to a user (`send_stream_msg`). Leave out
   * `msgKey` on the first call and pass the returned one on every later call; set `finish` on the
   * last. Retried only when the chunk certainly was not appended (see `RetryMode`), so a chunk is
   * never shown twice; a failure with an unknown outcome is thrown for the caller to settle.
   */
  async sendStreamMsg(input: SendStreamMsgInput): Promise<{ msgKey: string }> {
    const chunk = parseInput(sendStreamMsgInput, input, 'sendStreamMsg');
    const body = {
      From_Account: chunk.from,
      To_Account: chunk.to,
      Chunk: chunk.chunk,
      MsgKey: chunk.msgKey,
      Finish: chunk.finish ? 1 : undefined,
    };
    const answer = await this.#request(
      'openim_robot_http_svc/send_stream_msg',
      body,
      sendStreamMsgAnswer,
      'unapplied',
    );
    return { msgKey: answer.MsgKey };
  }

  /**
   * Sends a one-to-one message (`openim/sendmsg`): `text`, or `msgBody` elements for other kinds.
   * Without `from` the admin sends it. `MsgSeq` and `MsgRandom` are drawn once and reused by every
   * retry, so the cloud's 120-second de-duplication makes retries safe.
   */
  sendMsg(input: SendMsgInput, signal?: AbortSignal): Promise<{ msgKey: string; msgTime: number }> {
    return this.#sendMsg(input, { signal });
  }

  /** `sendMsg`, with its call's options: a typing signal's carries the permit taken for it. */
  async #sendMsg(input: SendMsgInput, call: CallOptions): Promise<{ msgKey: string; msgTime: number }> {
    const message = parseInput(sendMsgInput, input, 'sendMsg');
    const msgBody: MsgBodyElement[] =
      'text' in message ? [{ MsgType: 'TIMTextElem', MsgContent: { Text: message.text } }] : message.msgBody;
    const body = {
      SyncOtherMachine: message.syncOtherMachine ?? 1,
      From_Account: message.from,
      To_Account: message.to,
      MsgSeq: randomUint32(),
      MsgRandom: randomUint32(),
      MsgBody: msgBody,
      CloudCustomData: message.cloudCustomData,
      MsgLifeTime: message.msgLifeTime,
      SendMsgControl: message.sendMsgControl,
    };
    const answer = await this.#request('openim/sendmsg', body, sendMsgAnswer, 'idempotent', call);
    return { msgKey: answer.MsgKey, msgTime: answer.MsgTime };
  }

  /**
   * Marks `reader`'s one-to-one chat with `peer` read up to `time` (seconds; default now), so the
   * peer's client shows its messages read (`openim/admin_set_msg_read`, doc 1047/50349).
   */
  async setMsgRead(input: { reader: string; peer: string; time?: number }): Promise<void> {
    const read = parseInput(setMsgReadInput, input, 'setMsgRead');
    await this.call(
      'openim/admin_set_msg_read',
      { Report_Account: read.reader, Peer_Account: read.peer, MsgReadTime: read.time },
      { retry: 'idempotent' },
    );
  }

  /**
   * Tells user `to` that `from` is typing (`typing: false`: has stopped): an online-only `sendmsg`
   * (`MsgLifeTime` 0: not stored, not counted unread, not pushed, not synced to the sender's other
   * devices) carrying TUIKit's typing element, which TUIKit shows for 5 s in one-to-one chats.
   * `statusText` names what runs, for clients that show it.
   */
  sendTyping(input: SendTypingInput, signal?: AbortSignal): Promise<void> {
    return this.#sendTyping(input, { signal });
  }

  async #sendTyping(input: SendTypingInput, call: CallOptions): Promise<void> {
    const t = parseInput(sendTypingInput, input, 'sendTyping');
    await this.#sendMsg(
      {
        from: t.from,
        to: t.to,
        syncOtherMachine: 2,
        msgLifeTime: 0,
        sendMsgControl: ['NoUnread', 'NoLastMsg'],
        msgBody: [typingElement(t.typing ?? true, t.statusText)],
      },
      call,
    );
  }

  /**
   * The typing indicator from a robot to a user: `start()` it when an answer begins, and a stream
   * session's first text stops it (`openStream(target, { typing: indicator })`). Undefined for a
   * group: TUIKit shows typing only in one-to-one chats.
   */
  typing(target: StreamTarget): TypingIndicator | undefined {
    return this.typingFor(target);
  }

  protected override typingFor(target: StreamTarget): TypingIndicator | undefined {
    if ('groupId' in target) return undefined;
    const { from, to } = target;
    return this.typingIndicator({
      rateKey: 'openim/sendmsg',
      renewMs: TYPING_RENEW_MS,
      send: (statusText, signal, permit) =>
        this.#sendTyping({ from, to, ...(statusText ? { statusText } : {}) }, { signal, permit }),
    });
  }

  /**
   * Sends a message to a group (`group_open_http_svc/send_group_msg`): `text`, or `msgBody`
   * elements; `mention` @-mentions users (`@id ` in front, and `GroupAtInfo`). Without `from` the
   * admin sends it. Retried only when it certainly was not sent, since
   * the cloud does not de-duplicate group messages, unless `retry: 'idempotent'` accepts that a retry
   * after an unknown outcome may show it twice (a stream's fallback does, so no answer is lost).
   */
  async sendGroupMsg(
    input: SendGroupMsgInput,
    options: { retry?: RetryMode } = {},
  ): Promise<{ msgSeq: number; msgTime: number }> {
    const message = parseInput(sendGroupMsgInput, input, 'sendGroupMsg');
    const elements: MsgBodyElement[] = 'text' in message ? [textElement(message.text)] : message.msgBody;
    const { msgBody, groupAtInfo } = withMentions(elements, message.mention ?? []);
    const body = {
      GroupId: message.groupId,
      Random: randomUint32(),
      From_Account: message.from,
      MsgBody: msgBody,
      GroupAtInfo: groupAtInfo,
      CloudCustomData: 'cloudCustomData' in message ? message.cloudCustomData : undefined,
    };
    const answer = await this.#request(
      'group_open_http_svc/send_group_msg',
      body,
      sendGroupMsgAnswer,
      options.retry ?? 'unapplied',
    );
    return { msgSeq: answer.MsgSeq, msgTime: answer.MsgTime };
  }

  /**
   * Opens a stream session: text written to it reaches the user as one message that grows. All
   * sessions of this client share its rate budget fairly; see `StreamSession`.
   *
   * @example
   * const session = im.openStream({ from: '@RBT#helper', to: 'user01' });
   * for await (const token of llm) session.write(token);
   * await session.end();
   */
  openStream(target: StreamTarget, options: TencentStreamOptions = {}): StreamSession {
    const { format, ...session } = options;
    // The format travels with the target, so that a journal's takeover streams in it too.
    const f = format ?? target.format ?? this.#streamFormat;
    return this.session({ ...target, format: f }, session);
  }

  protected transportFor(target: StreamTarget): StreamTransport {
    const t = parseInput(openStreamInput, target, 'openStream');
    const call: StreamCall = (api, body, schema, permit) =>
      this.#request(api, body, schema, 'unapplied', { permit });
    if (t.format === 'tuikit') return this.#tuikitTransport(t, call);
    if ('groupId' in t) {
      return new StreamMsgTransport(
        call,
        // The fallback must not lose the answer: after an unknown outcome it is sent again.
        (text) =>
          this.sendGroupMsg(
            { from: t.from, groupId: t.groupId, text, mention: t.mention },
            { retry: 'idempotent' },
          ),
        t,
        this,
      );
    }
    if (t.api === 'stream_msg') {
      return new StreamMsgTransport(call, (text) => this.sendMsg({ from: t.from, to: t.to, text }), t, this);
    }
    const from = parseInput(robotId, t.from, 'openStream.from');
    return new RobotStreamTransport(call, (text) => this.sendMsg({ from, to: t.to, text }), from, t.to, this);
  }

  /** TUIKit's format: one custom message per answer, rewritten as it grows; plain text as fallback. */
  #tuikitTransport(t: z.output<typeof openStreamInput>, call: StreamCall): TuikitStreamTransport {
    if ('groupId' in t) {
      return new TuikitStreamTransport(
        call,
        (text) =>
          this.sendGroupMsg(
            { from: t.from, groupId: t.groupId, text, mention: t.mention },
            { retry: 'idempotent' },
          ),
        t,
        this,
      );
    }
    const from = parseInput(robotId, t.from, 'openStream.from');
    return new TuikitStreamTransport(
      call,
      (text) => this.sendMsg({ from, to: t.to, text }),
      { from, to: t.to },
      this,
    );
  }

  /**
   * The type of a group (`Public`, `Private`/`Work`, `ChatRoom`/`Meeting`, `AVChatRoom`,
   * `Community`), from `group_open_http_svc/get_group_info`.
   */
  async getGroupType(groupId: string): Promise<string> {
    const id = parseInput(groupIdSchema, groupId, 'groupId');
    const answer = await this.#request(
      'group_open_http_svc/get_group_info',
      { GroupIdList: [id], ResponseFilter: { GroupBaseInfoFilter: ['Type'] } },
      groupInfoAnswer,
      'idempotent',
    );
    const info = answer.GroupInfo[0];
    if (info?.ErrorCode !== 0 || info.Type === undefined) {
      throw new TencentApiError(info?.ErrorCode || 10010, `group ${id}: ${info?.ErrorInfo || 'not found'}`, {
        endpoint: 'v4/group_open_http_svc/get_group_info',
        retryable: false,
      });
    }
    return info.Type;
  }

  /**
   * Adds accounts to a group (`group_open_http_svc/add_group_member`), silently: no notice in the
   * group. Every group type but live-streaming groups (`AVChatRoom`), which robots join with
   * `addLiveGroupRobots`. Adding a member twice is not an error.
   */
  async addGroupMembers(groupId: string, userIds: string[]): Promise<void> {
    const m = parseInput(groupMembersInput, { groupId, userIds }, 'addGroupMembers');
    const answer = await this.#request(
      'group_open_http_svc/add_group_member',
      { GroupId: m.groupId, Silence: 1, MemberList: m.userIds.map((id) => ({ Member_Account: id })) },
      addGroupMemberAnswer,
      'idempotent',
    );
    // Result 0 is a failure for that account; 1 added, 2 already a member, 3 waiting for approval.
    const failed = answer.MemberList.filter((r) => r.Result === 0).map((r) => r.Member_Account);
    if (failed.length > 0) {
      throw new TencentApiError(10004, `not added to group ${m.groupId}: ${failed.join(', ')}`, {
        endpoint: 'v4/group_open_http_svc/add_group_member',
        retryable: false,
      });
    }
  }

  /** Removes accounts from a group (`group_open_http_svc/delete_group_member`), silently. */
  async deleteGroupMembers(groupId: string, userIds: string[]): Promise<void> {
    const m = parseInput(groupMembersInput, { groupId, userIds }, 'deleteGroupMembers');
    const body = { GroupId: m.groupId, Silence: 1, MemberToDel_Account: m.userIds };
    await this.#request('group_open_http_svc/delete_group_member', body, envelope, 'idempotent');
  }

  /**
   * Pins robots in a live-streaming group's (`AVChatRoom`) online member list
   * (`group_open_avchatroom_http_svc/add_robots`); the cloud needs a plan and console switch for it.
   */
  addLiveGroupRobots(groupId: string, robotIds: string[]): Promise<void> {
    return this.#liveGroupRobots('add_robots', groupId, robotIds);
  }

  /** Takes robots off a live-streaming group's online member list (`…/del_robots`). */
  deleteLiveGroupRobots(groupId: string, robotIds: string[]): Promise<void> {
    return this.#liveGroupRobots('del_robots', groupId, robotIds);
  }

  async #liveGroupRobots(
    command: 'add_robots' | 'del_robots',
    groupId: string,
    robotIds: string[],
  ): Promise<void> {
    const m = parseInput(groupMembersInput, { groupId, userIds: robotIds }, command);
    const body = { GroupId: m.groupId, Members_Account: m.userIds };
    await this.#request(`group_open_avchatroom_http_svc/${command}`, body, envelope, 'idempotent');
  }

  /** Sets a user's or robot's nick, avatar URL and status (`profile/portrait_set`). */
  async setProfile(userId: string, profile: TencentProfileInput): Promise<void> {
    const id = parseInput(userIdSchema, userId, 'setProfile.userId');
    const fields = parseInput(profileInput, profile, 'setProfile');
    const items = (Object.keys(PROFILE_TAGS) as (keyof typeof PROFILE_TAGS)[])
      .filter((key) => fields[key] !== undefined)
      .map((key) => ({ Tag: PROFILE_TAGS[key], Value: fields[key] }));
    if (items.length === 0) {
      throw new ValidationError(
        'setProfile',
        'setProfile: give at least one of nick, faceUrl, selfSignature',
      );
    }
    await this.call(
      'profile/portrait_set',
      { From_Account: id, ProfileItem: items },
      { retry: 'idempotent' },
    );
  }

  /**
   * Reads nick, avatar URL and status of users or robots (`profile/portrait_get`), 100 per call.
   * Accounts the cloud does not know are left out of the result.
   */
  async getProfiles(userIds: string[]): Promise<TencentProfile[]> {
    const ids = parseInput(getProfilesInput, userIds, 'getProfiles.userIds');
    const batches: string[][] = [];
    for (let i = 0; i < ids.length; i += PROFILES_PER_CALL) batches.push(ids.slice(i, i + PROFILES_PER_CALL));
    const answers = await Promise.all(
      batches.map((batch) =>
        this.#request(
          'profile/portrait_get',
          { To_Account: batch, TagList: Object.values(PROFILE_TAGS) },
          portraitGetAnswer,
          'idempotent',
        ),
      ),
    );
    return answers.flatMap((answer) =>
      answer.UserProfileItem.filter((item) => item.ResultCode === 0).map((item) => {
        const profile: TencentProfile = { userId: item.To_Account };
        for (const [key, tag] of Object.entries(PROFILE_TAGS) as [keyof typeof PROFILE_TAGS, string][]) {
          const value = item.ProfileItem.find((p) => p.Tag === tag)?.Value;
          if (typeof value === 'string' && value !== '') profile[key] = value;
        }
        return profile;
      }),
    );
  }

  /**
   * One page of a one-to-one conversation's history (`openim/admin_getroammsg`), newest first: the
   * messages between `minTime` and `maxTime` (seconds). When `complete` is false, ask again with
   * `maxTime: lastMsgTime` and `lastMsgKey` for the next page.
   */
  async getRoamMessages(input: RoamMessagesInput): Promise<HistoryPage> {
    const q = parseInput(roamMessagesInput, input, 'getRoamMessages');
    const body = {
      Operator_Account: q.operator,
      Peer_Account: q.peer,
      MaxCnt: q.maxCount ?? 100,
      MinTime: q.minTime,
      MaxTime: q.maxTime,
      LastMsgKey: q.lastMsgKey,
    };
    const answer = await this.#request('openim/admin_getroammsg', body, roamMsgAnswer, 'idempotent');
    const page: HistoryPage = {
      complete: answer.Complete === 1,
      messages: answer.MsgList.map((m) => ({
        from: m.From_Account,
        to: m.To_Account,
        msgKey: m.MsgKey,
        msgSeq: m.MsgSeq,
        msgRandom: m.MsgRandom,
        msgTime: m.MsgTimeStamp,
        recalled: ((m.MsgFlagBits ?? 0) & 1) === 1,
        msgBody: m.MsgBody,
      })),
    };
    if (answer.LastMsgKey !== undefined) page.lastMsgKey = answer.LastMsgKey;
    if (answer.LastMsgTime !== undefined) page.lastMsgTime = answer.LastMsgTime;
    return page;
  }

  /**
   * A group's latest messages (`group_open_http_svc/group_msg_get_simple`), newest first, at most 20
   * per call; `upToSeq` pages back (the smallest `msgSeq` seen, minus one). `complete` once the
   * group's first message is in the page.
   */
  async getGroupMessages(input: GroupMessagesInput): Promise<HistoryPage> {
    const q = parseInput(groupMessagesInput, input, 'getGroupMessages');
    const body = { GroupId: q.groupId, ReqMsgNumber: q.count ?? 20, ReqMsgSeq: q.upToSeq };
    const answer = await this.#request(
      'group_open_http_svc/group_msg_get_simple',
      body,
      groupHistoryAnswer,
      'idempotent',
    );
    return {
      complete: answer.IsFinished === 1,
      messages: answer.RspMsgList.filter((m) => m.IsPlaceMsg !== 1).map((m) => ({
        from: m.From_Account,
        to: q.groupId,
        msgSeq: m.MsgSeq,
        msgRandom: m.MsgRandom,
        msgTime: m.MsgTimeStamp,
        recalled: ((m.MsgFlagBits ?? 0) & 1) === 1,
        msgBody: m.MsgBody,
      })),
    };
  }

  /**
   * Calls any REST API by its `service/command` path (`'group_open_http_svc/get_group_info'`) and
   * returns the whole answer. Retried as `unapplied` unless `retry: 'idempotent'` is given.
   */
  async call(
    api: string,
    body: Record<string, unknown> = {},
    options: { retry?: RetryMode; signal?: AbortSignal } = {},
  ): Promise<z.output<typeof envelope>> {
    const path = api.replace(/^\/?v4\//, '');
    if (!/^[A-Za-z0-9_]+\/[A-Za-z0-9_]+$/.test(path)) {
      throw new ValidationError('api', `api: "${api}" is not a "service/command" path`);
    }
    return this.#request(path, body, envelope, options.retry ?? 'unapplied', options);
  }

  /** One call of REST API `api` (`service/command`) through the request layer. */
  #request<S extends z.ZodType>(
    api: string,
    body: Record<string, unknown>,
    schema: S,
    mode: RetryMode,
    call?: CallOptions,
  ): Promise<z.output<S>> {
    return this.requests.request(api, `v4/${api}`, { json: body }, schema, mode, call);
  }
}
