import type { IncomingMessage, ServerResponse } from 'node:http';
import { mentionTag } from '@imbot/core/internal';
import type { RateCharge } from '@imbot/core/tencent';
import * as z from 'zod';
import { ApiServer, type CallRecord, type Reply } from './api-server.js';
import type { CallbackResult } from './callbacks.js';
import type { ChatState, Message, TypingStatus } from './chat-state.js';
import type { Clock } from './clock.js';
import type { Faults } from './faults.js';
import { sendText } from './http.js';
import type { TrafficView } from './traffic.js';
import type { WindowCounters } from './window.js';

/** Each cloud is served on a primary origin and a backup one, as the real data centres are. */
export type Origin = 'primary' | 'backup';
/** How an origin made to fail fails: the connection is reset, or it answers 503. */
export type OriginFailure = 'reset' | 'http-503';

/** A picture or a file a user sends with (or instead of) text, by the URL the cloud stored it at. */
export const userAttachment = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('image'), url: z.url() }),
  z.strictObject({ type: z.literal('file'), url: z.url(), name: z.string().min(1) }),
]);
export type UserAttachment = z.infer<typeof userAttachment>;

/** A user writes to a bot: text, and a picture or a file if `attachment` is given. */
export const userSendsInput = z.strictObject({
  from: z.string().min(1),
  to: z.string().min(1),
  text: z.string(),
  attachment: userAttachment.optional(),
});
export type UserSends = z.input<typeof userSendsInput>;

/**
 * A user writes in a group and @-mentions bots; each gets `@<id> ` in front of the text unless the
 * text already names it.
 */
export const userSendsToGroupInput = z.strictObject({
  from: z.string().min(1),
  groupId: z.string().min(1),
  text: z.string(),
  mentions: z.array(z.string()).default([]),
});
export type UserSendsToGroup = z.input<typeof userSendsToGroupInput>;

/** A user presses a `message` button of a card a bot sent them (or their group). */
export const userPressesInput = z
  .strictObject({
    from: z.string().min(1),
    /** The card's message (`msgKey` as the conversation lists it). */
    msgKey: z.string().min(1),
    /** The button's value as the card carries it; it must be one of the card's `message` buttons. */
    value: z.string().min(1).optional(),
    /** Or the button's title, as a user sees it; the press carries that button's value. */
    title: z.string().min(1).optional(),
  })
  .refine((input) => (input.value === undefined) !== (input.title === undefined), {
    message: 'name the button by its value or by its title',
    path: ['value'],
  });
export type UserPresses = z.infer<typeof userPressesInput>;

/** A group made by hand, as an app's own server or a client would make it. */
export const createGroupInput = z.strictObject({
  groupId: z.string().min(1).max(48),
  /** The cloud's group type; Tencent: `Public` (default), `Private`, `ChatRoom`, `AVChatRoom`, `Community`. */
  type: z.string().min(1).optional(),
  members: z.array(z.string().min(1)).max(300).default([]),
});
export type CreateGroup = z.input<typeof createGroupInput>;

/** A group as the console shows it: members in join order, bots marked. */
export interface GroupView {
  groupId: string;
  type: string;
  members: { userId: string; bot: boolean }[];
  messages: number;
}

/**
 * What a user's client would not let the user do: press a button the card does not have, or write to
 * a robot the app does not have. The control API answers it with 400.
 */
export class ClientRefused extends Error {}

export interface UserSendResult {
  message: Message;
  /** The callbacks posted and the app's answers; the first one as `callback`. */
  callback?: CallbackResult;
  callbacks?: CallbackResult[];
}

/** A bot as the console shows it, in neutral words. */
export interface EmulatedBot {
  userId: string;
  name?: string;
  avatarUrl?: string;
  description?: string;
  /** False for a deleted Tencent robot, which the cloud keeps as invalid. */
  valid: boolean;
}

/** What both emulated clouds offer to tests, the control API and the console. */
export interface EmulatedCloud {
  readonly state: ChatState;
  bots(): EmulatedBot[];
  userSends(input: UserSends): Promise<UserSendResult>;
  userSendsToGroup(input: UserSendsToGroup): Promise<UserSendResult>;
  userPresses(input: UserPresses): Promise<UserSendResult>;
  createGroup(input: CreateGroup): GroupView;
  groups(): GroupView[];
  conversation(userId: string, botId: string): Message[];
  groupConversation(groupId: string): Message[];
  /** Whether the user's client shows the bot typing now, and the word it shows, if any. */
  typing(userId: string, botId: string): TypingStatus | undefined;
  calls(): CallRecord[];
  callbacks(): CallbackResult[];
  /** Per budget (an API, or a group, channel or stream): units accepted and refused, and the busiest window. */
  rate(): Record<string, WindowCounters>;
  /** The last minute, second by second: calls per API against the limit, and streaming gaps. */
  traffic(): TrafficView;
}

/** The text of a group message: each mentioned bot's `@<id> ` in front, unless the text names it. */
export function mentionText(text: string, mentions: string[]): string {
  const prefix = mentions
    .filter((id) => !text.includes(mentionTag(id)))
    .map((id) => `${mentionTag(id)} `)
    .join('');
  return `${prefix}${text}`;
}

/** Callbacks remembered at most, for inspection. */
const MAX_CALLBACK_RECORDS = 10_000;

/**
 * What every emulated cloud shares: its REST API served through an `ApiServer` (each cloud supplies
 * the protocol: `check`, `frequencyLimited`, `failure`, `handleCall`), the conversations as users
 * see them (idle streams abandoned), the call and callback logs, the rate counters and reset.
 */
export abstract class CloudEmulator<S extends ChatState> implements EmulatedCloud {
  readonly state: S;
  readonly #server: ApiServer;
  readonly #callbacks: CallbackResult[] = [];
  #failing: Partial<Record<Origin, OriginFailure>> = {};
  readonly #streamIdleMs: number;

  protected readonly clock: Clock;

  constructor(
    state: S,
    faults: Faults,
    options: { limitPerSecond: number; streamIdleMs: number; clock: Clock },
  ) {
    this.state = state;
    this.clock = options.clock;
    this.#streamIdleMs = options.streamIdleMs;
    const cloud = this;
    this.#server = new ApiServer(
      {
        check: (url, req, text) => this.check(url, req, text),
        charges: (api, body) => this.rateCharges(api, body),
        frequencyLimited: (api, charge) => this.frequencyLimited(api, charge),
        // Read when a fault strikes: a subclass's fields are not set yet while this constructor runs.
        get internalErrorCode() {
          return cloud.internalErrorCode;
        },
        failure: (code, info) => this.failure(code, info),
        handle: (api, body) => this.handleCall(api, body),
      },
      faults,
      options.limitPerSecond,
      options.clock,
    );
    // How long each streaming message waited between pieces: the chart's stream latency.
    const grewAt = new WeakMap<Message, number>();
    state.on('message', (message: Message) => {
      if (message.kind === 'stream') grewAt.set(message, message.updatedAt);
    });
    state.on('update', (message: Message) => {
      const before = grewAt.get(message);
      if (before === undefined || message.updatedAt <= before) return;
      this.#server.traffic.streamGap(message.updatedAt - before, this.clock.now());
      grewAt.set(message, message.updatedAt);
    });
  }

  abstract bots(): EmulatedBot[];
  abstract userSends(input: UserSends): Promise<UserSendResult>;
  abstract userSendsToGroup(input: UserSendsToGroup): Promise<UserSendResult>;
  /** The group type a group gets when a user first writes in it. */
  protected abstract readonly defaultGroupType: string;
  /** Delivers a press of `card`'s button `value` by `from`, as the cloud's client sends it. */
  protected abstract deliverPress(card: Message, from: string, value: string): Promise<UserSendResult>;
  /** Authenticates a request and reads its body (see `CloudProtocol.check`). */
  protected abstract check(
    url: URL,
    req: IncomingMessage,
    text: string,
  ): { api: string; body: Record<string, unknown> } | { reply: Reply; api?: string };
  /** The budgets a call draws on: the cloud's documented limits (core's table), or the `rateLimit` override. */
  protected abstract rateCharges(api: string, body: Record<string, unknown>): readonly RateCharge[];
  /** The cloud's answer when `charge`'s budget had no room for the call. */
  protected abstract frequencyLimited(api: string, charge: RateCharge): Reply;
  /** The cloud's own internal error code, worth retrying. */
  protected abstract readonly internalErrorCode: number;
  protected abstract failure(code: number, info: string): Reply;
  protected abstract handleCall(api: string, body: Record<string, unknown>): Reply;

  /** The messages between a user and a bot (or any two users), oldest first, as the user sees them. */
  conversation(userId: string, botId: string): Message[] {
    return this.#settled(this.state.conversation(userId, botId));
  }

  /** Whether the user's client shows the bot typing now (a typing signal, not yet lapsed or answered). */
  typing(userId: string, botId: string): TypingStatus | undefined {
    return this.state.typingOf(botId, userId);
  }

  /** The messages of a group, oldest first. */
  groupConversation(groupId: string): Message[] {
    return this.#settled(this.state.groupConversation(groupId));
  }

  /** Makes a group (if there is none of that id) and adds `members` to it. */
  createGroup(input: CreateGroup): GroupView {
    const { groupId, type, members } = createGroupInput.parse(input);
    this.state.ensureGroup(groupId, type ?? this.defaultGroupType);
    for (const member of members) this.state.join(groupId, member);
    return this.#groupView(groupId);
  }

  /** Every group with its members, bots marked. */
  groups(): GroupView[] {
    return this.state.groups().map((g) => this.#groupView(g.groupId));
  }

  /**
   * A user presses a card's `message` button: the press is recorded in the conversation (its text
   * the button's value) and sent to the bot as the cloud's client sends it. A press the client could
   * not make (no such card, no such button, someone else's chat) throws `ClientRefused`.
   */
  async userPresses(input: UserPresses): Promise<UserSendResult> {
    const { from, msgKey, value, title } = userPressesInput.parse(input);
    const card = this.state.byKey(msgKey);
    if (card?.content?.type !== 'card') throw new ClientRefused(`no card with msgKey ${msgKey}`);
    const inChat = card.groupId ? this.state.isMember(card.groupId, from) : card.to === from;
    if (!inChat) throw new ClientRefused(`${from} cannot see the card ${msgKey}`);
    const button = card.content.buttons.find(
      (b) => b.type === 'message' && (title === undefined ? b.value === value : b.title === title),
    );
    if (button?.type !== 'message') {
      throw new ClientRefused(
        `the card ${msgKey} has no button ${title === undefined ? `that sends "${value}"` : `titled "${title}"`}`,
      );
    }
    return this.deliverPress(card, from, button.value);
  }

  /** The group a user writes in, made on first use with the user in it. */
  protected groupForUser(groupId: string, userId: string): void {
    this.state.ensureGroup(groupId, this.defaultGroupType);
    this.state.join(groupId, userId);
  }

  #groupView(groupId: string): GroupView {
    const group = this.state.group(groupId) as NonNullable<ReturnType<S['group']>>;
    const bots = new Set(this.bots().map((b) => b.userId));
    return {
      groupId,
      type: group.type,
      members: group.members.map((userId) => ({ userId, bot: bots.has(userId) })),
      messages: this.state.groupConversation(groupId).length,
    };
  }

  /** Every REST call so far (the latest 10 000), oldest first. */
  calls(): CallRecord[] {
    return this.#server.calls();
  }

  /** Every callback posted so far, oldest first. */
  callbacks(): CallbackResult[] {
    return [...this.#callbacks];
  }

  /** Per budget (an API, or a group, channel or stream): units accepted and refused, and the busiest window. */
  rate(): Record<string, WindowCounters> {
    return this.#server.rate();
  }

  /** The last minute, second by second: calls per API against the limit, and streaming gaps. */
  traffic(): TrafficView {
    return this.#server.traffic.view(this.clock.now());
  }

  /** Forgets messages, calls, callbacks and rate counters. */
  reset(): void {
    this.state.clear();
    this.#server.reset();
    this.#callbacks.length = 0;
    this.#failing = {};
  }

  /** Makes an origin fail every request (`'reset'` or `'http-503'`), or work again (`null`). */
  failOrigin(origin: Origin, how: OriginFailure | null): void {
    if (how) this.#failing[origin] = how;
    else delete this.#failing[origin];
  }

  /** Answers one request that arrived at the primary or the backup origin. */
  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    origin: Origin = 'primary',
  ): Promise<void> {
    const failing = this.#failing[origin];
    if (failing === 'reset') {
      req.socket.destroy();
      return;
    }
    if (failing === 'http-503') return sendText(res, 503, 'service unavailable');
    return this.serve(req, res, url);
  }

  /** Drops the connections of calls left hanging by a `hang` fault. */
  close(): void {
    this.#server.close();
  }

  /** Answers one REST request. */
  protected serve(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    return this.#server.serve(req, res, url);
  }

  protected recordCallback(callback: CallbackResult): void {
    this.#callbacks.push(callback);
    if (this.#callbacks.length > MAX_CALLBACK_RECORDS) this.#callbacks.shift();
  }

  /** Records a message a user wrote (to a bot, or in a group): text, or a button press. */
  protected addUserMessage(
    msgKey: string,
    from: string,
    to: string,
    text: string,
    extra: Pick<Message, 'groupId' | 'mentions' | 'pressed' | 'content'> = {},
  ): Message {
    const now = this.clock.now();
    return this.state.add({
      msgKey,
      from,
      to,
      ...extra,
      kind: extra.pressed || extra.content ? 'custom' : 'text',
      text,
      state: 'finished',
      time: now,
      updatedAt: now,
      calls: 1,
    });
  }

  #settled(messages: Message[]): Message[] {
    const now = this.clock.now();
    for (const message of messages) this.state.settleIdle(message, this.#streamIdleMs, now);
    return messages.map((m) => ({ ...m }));
  }
}
