import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { ApiServer, type CallRecord, type Reply } from './api-server.js';
import type { CallbackResult } from './callbacks.js';
import type { ChatState, Message } from './chat-state.js';
import type { Faults } from './faults.js';
import { sendText } from './http.js';
import type { WindowCounters } from './window.js';

/** Each cloud is served on a primary origin and a backup one, as the real data centres are. */
export type Origin = 'primary' | 'backup';
/** How an origin made to fail fails: the connection is reset, or it answers 503. */
export type OriginFailure = 'reset' | 'http-503';

/** A user writes to a bot. */
export const userSendsInput = z.object({ from: z.string().min(1), to: z.string().min(1), text: z.string() });
export type UserSends = z.infer<typeof userSendsInput>;

/**
 * A user writes in a group and @-mentions bots; each gets `@<id> ` in front of the text unless the
 * text already names it.
 */
export const userSendsToGroupInput = z.object({
  from: z.string().min(1),
  groupId: z.string().min(1),
  text: z.string(),
  mentions: z.array(z.string()).default([]),
});
export type UserSendsToGroup = z.input<typeof userSendsToGroupInput>;

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
  conversation(userId: string, botId: string): Message[];
  groupConversation(groupId: string): Message[];
  calls(): CallRecord[];
  callbacks(): CallbackResult[];
  rate(): Record<string, WindowCounters>;
}

/** The text of a group message: each mentioned bot's `@<id> ` in front, unless the text names it. */
export function mentionText(text: string, mentions: string[]): string {
  const prefix = mentions
    .filter((id) => !text.includes(`@${id}`))
    .map((id) => `@${id} `)
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

  constructor(state: S, faults: Faults, options: { rateLimit: number; streamIdleMs: number }) {
    this.state = state;
    this.#streamIdleMs = options.streamIdleMs;
    this.#server = new ApiServer(
      {
        check: (url, req, text) => this.check(url, req, text),
        frequencyLimited: (api) => this.frequencyLimited(api),
        failure: (code, info) => this.failure(code, info),
        handle: (api, body) => this.handleCall(api, body),
      },
      faults,
      options.rateLimit,
    );
  }

  abstract bots(): EmulatedBot[];
  abstract userSends(input: UserSends): Promise<UserSendResult>;
  abstract userSendsToGroup(input: UserSendsToGroup): Promise<UserSendResult>;
  /** Authenticates a request and reads its body (see `CloudProtocol.check`). */
  protected abstract check(
    url: URL,
    req: IncomingMessage,
    text: string,
  ): { api: string; body: Record<string, unknown> } | { reply: Reply; api?: string };
  protected abstract frequencyLimited(api: string): Reply;
  protected abstract failure(code: number, info: string): Reply;
  protected abstract handleCall(api: string, body: Record<string, unknown>): Reply;

  /** The messages between a user and a bot (or any two users), oldest first, as the user sees them. */
  conversation(userId: string, botId: string): Message[] {
    return this.#settled(this.state.conversation(userId, botId));
  }

  /** The messages of a group, oldest first. */
  groupConversation(groupId: string): Message[] {
    return this.#settled(this.state.groupConversation(groupId));
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

  /** Records a plain text message a user wrote (to a bot, or in a group). */
  protected addUserMessage(
    msgKey: string,
    from: string,
    to: string,
    text: string,
    groupId?: string,
  ): Message {
    const now = Date.now();
    return this.state.add({
      msgKey,
      from,
      to,
      ...(groupId ? { groupId } : {}),
      kind: 'text',
      text,
      state: 'finished',
      time: now,
      updatedAt: now,
      calls: 1,
    });
  }

  #settled(messages: Message[]): Message[] {
    for (const message of messages) this.state.settleIdle(message, this.#streamIdleMs);
    return messages.map((m) => ({ ...m }));
  }
}
