import { setTimeout as sleep } from 'node:timers/promises';
import type { TurnPermit } from '../limits/turn-permit.js';
import { mentionPrefix } from '../message/rich.js';
import {
  CLOCK_SLACK_SECONDS,
  chunkDigest,
  type EndReason,
  judgeReadBack,
  type MessageState,
  type ReadBack,
  STREAM_IDLE_LIMIT_MS,
  type StreamCall,
  StreamSequence,
  type StreamTransport,
} from '../stream/transport.js';
import { utf8Bytes } from '../validation.js';
import { RONGCLOUD_PARAMETER_ERROR } from './codes.js';
import { RongCloudApiError } from './errors.js';
import type { RoutedMessage, RouteQuery, RouteStore } from './routes.js';
import { RONG_MESSAGE_MAX_BYTES, streamAnswer } from './schemas.js';

/** Where a RongCloud stream goes: from a bot to a user, or to a group. */
export type RongStreamTarget =
  | { from: string; to: string }
  | { from: string; groupId: string; mention?: readonly string[] | undefined };

/**
 * How long a read-back waits for the route of a message that a lost opening call may have opened.
 * The cloud routes a message as it is sent, so its route comes well within this unless the call was
 * not applied at all.
 */
export const ROUTE_WAIT_MS = 2000;
/** How long after deciding an opening call was not applied a late route of its message is watched for. */
const LATE_ROUTE_MS = 60_000;
/** How often a late route is judged again while an opening call's outcome is still being read back. */
const IN_DOUBT_PAUSE_MS = 250;

/** What a stream transport needs to find, through message routing, the message a lost opening call opened. */
export interface RouteReadBack {
  routes: RouteStore;
  /** How long to wait for the route; default `ROUTE_WAIT_MS`. */
  waitMs?: number;
  /** Recalls, without a notice, a message a lost opening call opened after all (found too late). */
  recall(message: RoutedMessage): Promise<unknown>;
  /** Aborts as the client closes: the watch for late routes stops with it. */
  closed?: AbortSignal;
}

/**
 * RongCloud streaming (`publish_stream.json`, `RC:StreamMsg`): each call carries the next piece as
 * `content`, with `seq` counting from 1 and `complete` on the last (which may be empty); the first
 * call's answer names the `messageUID` that later calls repeat. In a group it may @-mention users:
 * `@id ` in front of the first piece, and `mentionedInfo` on the first call.
 */
export class RongStreamTransport implements StreamTransport {
  readonly rateKey: string;
  /** In a group, its `toGroupId`: every call is a unit of the app's group messages a second. */
  readonly rateFields?: Readonly<Record<string, unknown>>;
  /** The assembled message stays under 128 KB, the limit of one message. */
  readonly maxMessageBytes: number;
  /** A plain message's content is JSON around the text: leave room for it. */
  readonly maxPlainBytes: number;
  readonly minCallIntervalMs = 0;
  readonly emptyFinalChunk = true;
  /** The stream is sent as `type: 'markdown'`. */
  readonly markdown = true;
  readonly idleLimitMs = STREAM_IDLE_LIMIT_MS;
  #messageUID: string | undefined;
  readonly #seq = new StreamSequence(
    (error) => error instanceof RongCloudApiError && error.errorCode === RONGCLOUD_PARAMETER_ERROR,
  );
  readonly #mention: readonly string[];
  /** UTF-16 units of the current message's text the cloud confirmed. */
  #sent = 0;
  /** The text of the call in flight, or of the last one whose outcome is unknown. */
  #attempt: string | undefined;
  /** When the current message's opening call was made (ms): its route is looked for from then. */
  #openedAt = 0;
  /** The call in flight, settled either way: a late route is judged once it has its answer. */
  #inFlight: Promise<unknown> = Promise.resolve();
  /** Messages this transport opened or adopted: a late route of one of them is never recalled. */
  readonly #mine = new Set<string>();
  /** For an opening call taken over from another process: its text's digest (the text is not kept). */
  #openingDigest: string | undefined;

  constructor(
    private readonly call: StreamCall,
    private readonly plain: (text: string) => Promise<unknown>,
    private readonly target: RongStreamTarget,
    private readonly getStream?: (messageUID: string) => Promise<{ content: string }>,
    private readonly routed?: RouteReadBack,
  ) {
    this.rateKey =
      'groupId' in target
        ? '/v3/message/group/publish_stream.json'
        : '/v3/message/private/publish_stream.json';
    if ('groupId' in target) this.rateFields = { toGroupId: target.groupId };
    this.#mention = 'groupId' in target ? (target.mention ?? []) : [];
    const prefixBytes = utf8Bytes(mentionPrefix(this.#mention));
    this.maxMessageBytes = RONG_MESSAGE_MAX_BYTES - 1 - prefixBytes;
    this.maxPlainBytes = RONG_MESSAGE_MAX_BYTES - 1024 - prefixBytes;
  }

  async send(
    chunk: string,
    final: boolean,
    end?: EndReason,
    permit?: TurnPermit,
  ): Promise<{ messageId: string }> {
    const t = this.target;
    if (this.#messageUID === undefined) this.#openedAt = Date.now();
    const call = this.#seq.next((seq) => {
      const opening = seq === 1 && this.#mention.length > 0;
      const text = seq === 1 ? this.#openingText(chunk) : chunk;
      this.#attempt = text;
      const content: Record<string, unknown> = { content: text, seq, complete: final };
      if (this.#messageUID) content.messageUID = this.#messageUID;
      if (final && end !== undefined) content.completeReason = end;
      else content.type = 'markdown';
      if (opening) content.mentionedInfo = { type: 2, userIdList: [...this.#mention], mentionedContent: '' };
      const body = {
        fromUserId: t.from,
        ...('groupId' in t ? { toGroupId: t.groupId } : { toUserId: t.to }),
        objectName: 'RC:StreamMsg',
        content,
      };
      // The first try spends the turn's permit; a number tried again waits for the budget.
      return this.call(this.rateKey, body, streamAnswer, permit);
    });
    this.#inFlight = call.catch(() => undefined);
    const answer = await call;
    this.#adopt(answer.messageUID);
    this.#sent += this.#attempt?.length ?? 0;
    this.#attempt = undefined;
    return { messageId: answer.messageUID };
  }

  /**
   * After a call of unknown outcome, learns whether the cloud applied it. A later call: the stream
   * is read back (`get_stream.json`) and its content tells, and so which `seq` comes next. The
   * opening call: its `messageUID` is what was lost, so the message is looked for among the bot's
   * routed messages (full message routing with Server API messages, given to `routes`): one from
   * this bot to this conversation, sent since the call, whose first piece is the call's text, and
   * not one a stream opened or adopted. Found, it is adopted and continued. Not found within
   * `waitMs` (2 s), the call was not applied and the next one opens the message again; should its
   * route still come within a minute, that message is recalled without a notice. Two found: unknown.
   */
  async readBack(signal?: AbortSignal): Promise<ReadBack | undefined> {
    const uid = this.#messageUID;
    const attempt = this.#attempt;
    if (attempt === undefined) return undefined;
    if (uid === undefined) return this.#findOpened(attempt, signal);
    if (!this.getStream) return undefined;
    const { content } = await this.getStream(uid);
    const verdict = judgeReadBack(content, this.#sent, attempt, uid);
    if (!verdict) return undefined;
    this.#seq.settle(verdict.applied);
    if (verdict.applied) this.#sent += attempt.length;
    this.#attempt = undefined;
    return verdict;
  }

  async #findOpened(attempt: string, signal: AbortSignal | undefined): Promise<ReadBack | undefined> {
    const routed = this.routed;
    if (!routed) return undefined;
    const where = this.#where(this.#openedAt - CLOCK_SLACK_SECONDS * 1000);
    const digest = this.#openingDigest ?? chunkDigest(attempt);
    const opened = (m: RoutedMessage) =>
      (m.content.seq ?? 1) === 1 &&
      typeof m.content.content === 'string' &&
      chunkDigest(m.content.content) === digest;
    const found = await routed.routes.find(where, opened, routed.waitMs ?? ROUTE_WAIT_MS, signal);
    if (found.length > 1) return undefined;
    const message = found[0];
    this.#attempt = undefined;
    this.#openingDigest = undefined;
    if (!message) {
      this.#seq.resume(1);
      this.#watchLate(routed, where, opened);
      return { applied: false };
    }
    this.#adopt(message.msgUID);
    this.#seq.resume(2);
    this.#sent += attempt.length;
    return { applied: true, messageId: message.msgUID };
  }

  /**
   * After an opening call was judged not applied: for a minute, any message its route shows it
   * opened after all (and not one this transport opened since) is recalled without a notice. Each
   * route is judged once the call in flight has its answer, and no opening call is being read back,
   * so the message this transport goes on with is known (and never recalled). The client's
   * `close()` ends the watch (`routed.closed`), its wait and its pauses with it.
   */
  #watchLate(routed: RouteReadBack, where: RouteQuery, opened: (m: RoutedMessage) => boolean): void {
    const until = Date.now() + LATE_ROUTE_MS;
    const judged = new Set<string>();
    const closed = routed.closed;
    const look = async (): Promise<void> => {
      const left = until - Date.now();
      if (left <= 0 || closed?.aborted) return;
      const accept = (m: RoutedMessage) => !judged.has(m.msgUID) && opened(m);
      const found = await routed.routes.find(where, accept, left, closed);
      if (found.length === 0 || closed?.aborted) return;
      await this.#inFlight;
      for (const late of found) {
        judged.add(late.msgUID);
        // An opening call being read back may yet adopt this very message: judge once it is settled.
        while (this.#messageUID === undefined && this.#attempt !== undefined && Date.now() < until)
          await sleep(IN_DOUBT_PAUSE_MS, undefined, closed ? { signal: closed } : undefined);
        if (!this.#mine.has(late.msgUID)) await routed.recall(late);
      }
      return look();
    };
    // A pause cut short by close() rejects: the watch simply ends.
    look().catch(() => undefined);
  }

  /** The message is this transport's: its later calls go to it, and no read-back takes it for another. */
  #adopt(messageUID: string): void {
    this.#messageUID = messageUID;
    this.#mine.add(messageUID);
    const claimed = this.routed?.routes.claim({ from: this.target.from, to: this.#to }, messageUID);
    if (claimed instanceof Promise) claimed.catch(() => undefined);
  }

  /** Where a read-back looks for the message: from the bot to this conversation, since `since` (ms). */
  #where(since: number): RouteQuery {
    return { from: this.target.from, to: this.#to, since };
  }

  get #to(): string {
    const t = this.target;
    return 'groupId' in t ? t.groupId : t.to;
  }

  /** The text of the call that opens a message: in a group, behind the @-mentions. */
  #openingText(chunk: string): string {
    return this.#mention.length > 0 ? `${mentionPrefix(this.#mention)}${chunk}` : chunk;
  }

  next(): void {
    this.#messageUID = undefined;
    this.#openingDigest = undefined;
    this.#seq.reset();
    this.#sent = 0;
  }

  snapshot(): MessageState | undefined {
    return this.#messageUID === undefined
      ? undefined
      : { messageId: this.#messageUID, next: this.#seq.expected };
  }

  /**
   * With message routing, a first call is recorded before it is made (the journal keeps a digest of
   * its text, never the text): if this process dies before the answer, another finds the message by
   * its route and closes it.
   */
  opening(chunk: string): MessageState | undefined {
    if (!this.routed) return undefined;
    const digest = chunkDigest(this.#openingText(chunk));
    return { messageId: '', opening: { at: Math.floor(Date.now() / 1000), digest } };
  }

  resume(state: MessageState): void {
    if (state.opening) {
      // Another process's first call, on its way when it died: `readBack()` finds its message.
      this.#messageUID = undefined;
      this.#openedAt = state.opening.at * 1000;
      this.#attempt = '';
      this.#openingDigest = state.opening.digest;
      this.#seq.resume(1);
      return;
    }
    this.#messageUID = state.messageId;
    this.#seq.resume(state.next ?? 1);
  }

  async sendPlain(text: string): Promise<void> {
    await this.plain(text);
  }
}
