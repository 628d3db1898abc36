import * as z from 'zod';
import type { TurnPermit } from '../limits/turn-permit.js';
import { mentionPrefix } from '../message/rich.js';
import {
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
import { TENCENT_PARAMETER_ERROR } from './codes.js';
import { TencentApiError } from './errors.js';
import { findInHistory, streamMsgIdOf, streamTextOf, type TencentHistory, textOf } from './history.js';
import { randomUint32 } from './protocol.js';
import { envelope, MESSAGE_MAX_BYTES, sendStreamMsgAnswer } from './schemas.js';

/**
 * Robot streaming (`openim_robot_http_svc/send_stream_msg`, one-to-one): the first call opens a
 * message and returns its `MsgKey`, later calls carry it, `Finish: 1` closes it. Every call needs a
 * non-empty `Chunk`, the closing one included. 12 KB per message.
 */
export class RobotStreamTransport implements StreamTransport {
  readonly rateKey = 'openim_robot_http_svc/send_stream_msg';
  readonly maxMessageBytes = MESSAGE_MAX_BYTES;
  readonly maxPlainBytes = MESSAGE_MAX_BYTES;
  readonly minCallIntervalMs = 0;
  readonly emptyFinalChunk = false;
  readonly idleLimitMs = STREAM_IDLE_LIMIT_MS;
  #msgKey: string | undefined;
  /** When the current message was opened (seconds): history is read back from then. */
  #openedAt = 0;
  /** UTF-16 units of the current message the cloud confirmed. */
  #sent = 0;
  /** The chunk of the call in flight, or of the last one whose outcome is unknown. */
  #attempt: string | undefined;
  /** For a first call taken over from another process: its chunk's digest (the text is not kept). */
  #openingDigest: string | undefined;
  /** Keys of the messages this transport opened: a read-back never adopts one of them again. */
  readonly #opened = new Set<string>();

  constructor(
    private readonly call: StreamCall,
    private readonly plain: (text: string) => Promise<unknown>,
    private readonly from: string,
    private readonly to: string,
    private readonly history?: TencentHistory,
  ) {}

  async send(
    chunk: string,
    final: boolean,
    _end?: EndReason,
    permit?: TurnPermit,
  ): Promise<{ messageId: string }> {
    if (this.#msgKey === undefined) {
      this.#openedAt = Math.floor(Date.now() / 1000);
      this.#sent = 0;
    }
    this.#attempt = chunk;
    const body = {
      From_Account: this.from,
      To_Account: this.to,
      Chunk: chunk,
      MsgKey: this.#msgKey,
      Finish: final ? 1 : undefined,
    };
    const answer = await this.call(this.rateKey, body, sendStreamMsgAnswer, permit);
    this.#msgKey = answer.MsgKey;
    this.#opened.add(answer.MsgKey);
    this.#sent += chunk.length;
    this.#attempt = undefined;
    return { messageId: answer.MsgKey };
  }

  /**
   * Reads the robot's one-to-one history back (`admin_getroammsg`). A lost opening call: the message
   * sent by the robot since then whose text has the chunk's digest (all a journal keeps of it), and
   * not one this transport opened before, is adopted. A later call: the message's text tells whether
   * the chunk was appended.
   */
  async readBack(): Promise<ReadBack | undefined> {
    const chunk = this.#attempt;
    if (!this.history || chunk === undefined) return undefined;
    const key = this.#msgKey;
    const digest = this.#openingDigest ?? chunkDigest(chunk);
    const found = await findInHistory(
      this.history,
      { operator: this.from, peer: this.to },
      this.#openedAt,
      (m) =>
        key === undefined
          ? m.from === this.from &&
            m.msgKey !== undefined &&
            !this.#opened.has(m.msgKey) &&
            !m.recalled &&
            chunkDigest(textOf(m.msgBody) ?? '') === digest
          : m.msgKey === key,
    );
    if (found.length > 1) return undefined;
    const message = found[0];
    let verdict: ReadBack | undefined;
    if (key === undefined) {
      verdict = message?.msgKey ? { applied: true, messageId: message.msgKey } : { applied: false };
      if (verdict.applied) {
        this.#msgKey = verdict.messageId;
        this.#opened.add(verdict.messageId);
      }
    } else if (message) {
      verdict = judgeReadBack(textOf(message.msgBody) ?? '', this.#sent, chunk, key);
    }
    if (verdict?.applied) this.#sent += chunk.length;
    if (verdict) this.#attempt = undefined;
    return verdict;
  }

  next(): void {
    this.#msgKey = undefined;
  }

  snapshot(): MessageState | undefined {
    return this.#msgKey === undefined ? undefined : { messageId: this.#msgKey };
  }

  opening(chunk: string): MessageState {
    return { messageId: '', opening: { at: Math.floor(Date.now() / 1000), digest: chunkDigest(chunk) } };
  }

  resume(state: MessageState): void {
    if (state.opening) {
      // Another process's first call, on its way when it died: `readBack()` finds its message.
      this.#msgKey = undefined;
      this.#openedAt = state.opening.at;
      this.#attempt = '';
      this.#openingDigest = state.opening.digest;
      return;
    }
    this.#msgKey = state.messageId;
  }

  async sendPlain(text: string): Promise<void> {
    await this.plain(text);
  }
}

/** `stream_msg` messages must stay under 128 KB. */
const STREAM_MSG_MAX_BYTES = 128 * 1024 - 1;
/** What clients too old for stream messages show instead. */
const COMPATIBLE_TEXT = 'This message is streamed; update the app to see it.';

const streamMsgAnswer = envelope.extend({
  StreamMsgID: z.string().min(1),
  MsgSeq: z.number().int().optional(),
});

/**
 * General streaming (`stream_msg/send_c2c_stream_msg` and `send_group_stream_msg`): a
 * `TIMStreamElem` whose chunks carry `Index` from 1 and `IsLast` on the closing one (which may be
 * empty); continuations name the `StreamMsgID`. At most 5 calls per second per stream, under 128 KB.
 * In a group, the message is known by its `MsgSeq` (what edits and recalls take) and may @-mention
 * users: `@id ` in front of its first chunk and `GroupAtInfo` on its first call.
 */
export class StreamMsgTransport implements StreamTransport {
  readonly rateKey: string;
  /** In a group, its `GroupId`: every call counts toward the group's 40 messages a second. */
  readonly rateFields?: Readonly<Record<string, unknown>>;
  readonly maxMessageBytes: number;
  readonly maxPlainBytes: number;
  readonly minCallIntervalMs = 200;
  readonly emptyFinalChunk = true;
  /** `TIMStreamElem` chunks are `Markdown`. */
  readonly markdown = true;
  readonly idleLimitMs = STREAM_IDLE_LIMIT_MS;
  #streamMsgId: string | undefined;
  readonly #index = new StreamSequence(
    (error) => error instanceof TencentApiError && error.errorCode === TENCENT_PARAMETER_ERROR,
    this.minCallIntervalMs,
  );
  #random = randomUint32();
  /** `@id ` for each mentioned user, in front of each message's first chunk. */
  readonly #prefix: string;
  /** When the current message was opened (seconds): history is read back from then. */
  #openedAt = 0;
  /** UTF-16 units of the current message's text the cloud confirmed. */
  #sent = 0;
  /** The text of the call in flight, or of the last one whose outcome is unknown. */
  #attempt: string | undefined;

  constructor(
    private readonly call: StreamCall,
    private readonly plain: (text: string) => Promise<unknown>,
    private readonly target:
      | { from?: string | undefined; to: string }
      | { from?: string | undefined; groupId: string; mention?: readonly string[] | undefined },
    private readonly history?: TencentHistory & { readonly admin: string },
  ) {
    this.rateKey =
      'groupId' in target ? 'stream_msg/send_group_stream_msg' : 'stream_msg/send_c2c_stream_msg';
    if ('groupId' in target) this.rateFields = { GroupId: target.groupId };
    this.#prefix = 'groupId' in target ? mentionPrefix(target.mention ?? []) : '';
    const prefixBytes = utf8Bytes(this.#prefix);
    this.maxMessageBytes = STREAM_MSG_MAX_BYTES - prefixBytes;
    this.maxPlainBytes = MESSAGE_MAX_BYTES - prefixBytes;
  }

  async send(
    chunk: string,
    final: boolean,
    _end?: EndReason,
    permit?: TurnPermit,
  ): Promise<{ messageId: string }> {
    const target = this.target;
    if (this.#streamMsgId === undefined) {
      this.#openedAt = Math.floor(Date.now() / 1000);
      this.#sent = 0;
    }
    const answer = await this.#index.next((index) => {
      const opening = index === 1;
      const markdown = opening ? `${this.#prefix}${chunk}` : chunk;
      this.#attempt = markdown;
      const content: Record<string, unknown> = {
        Chunks: [{ EventType: 'data', Index: index, Markdown: markdown, IsLast: final }],
      };
      if (this.#streamMsgId) content.StreamMsgID = this.#streamMsgId;
      else content.CompatibleText = COMPATIBLE_TEXT;
      const mention = 'groupId' in target && opening ? (target.mention ?? []) : [];
      const body = {
        From_Account: target.from,
        ...('groupId' in target
          ? { GroupId: target.groupId }
          : { To_Account: target.to, SyncOtherMachine: 1 }),
        MsgRandom: this.#random,
        MsgBody: [{ MsgType: 'TIMStreamElem', MsgContent: content }],
        ...(mention.length > 0 ? { GroupAtInfo: mention.map((id) => ({ GroupAt_Account: id })) } : {}),
      };
      // The first try spends the turn's permit; a number tried again waits for the budget.
      return this.call(this.rateKey, body, streamMsgAnswer, permit);
    });
    this.#streamMsgId = answer.StreamMsgID;
    this.#sent += this.#attempt?.length ?? 0;
    this.#attempt = undefined;
    // A group message's edits and recalls name it by MsgSeq; the stream goes on by StreamMsgID.
    return { messageId: answer.MsgSeq !== undefined ? String(answer.MsgSeq) : answer.StreamMsgID };
  }

  /**
   * Reads the conversation's history back (`admin_getroammsg`, or `group_msg_get_simple` in a group)
   * and finds the message by the `MsgRandom` all its calls carry: a lost opening call's message is
   * adopted and continued from `Index` 2; for a later call, the message's text tells whether it was
   * applied, and so which `Index` comes next.
   */
  async readBack(): Promise<ReadBack | undefined> {
    const history = this.history;
    const attempt = this.#attempt;
    if (!history || attempt === undefined) return undefined;
    const t = this.target;
    const from = t.from ?? history.admin;
    const where = 'groupId' in t ? { groupId: t.groupId } : { operator: from, peer: t.to };
    const found = await findInHistory(
      history,
      where,
      this.#openedAt,
      (m) => m.from === from && m.msgRandom === this.#random && streamMsgIdOf(m.msgBody) !== undefined,
    );
    if (found.length > 1) return undefined;
    const message = found[0];
    const streamMsgId = message && streamMsgIdOf(message.msgBody);
    const messageId = message && ('groupId' in t ? String(message.msgSeq) : streamMsgId);
    let verdict: ReadBack | undefined;
    if (this.#streamMsgId === undefined) {
      verdict = streamMsgId && messageId ? { applied: true, messageId } : { applied: false };
      if (verdict.applied) this.#streamMsgId = streamMsgId;
      // The first call carried Index 1: the message goes on from 2, or starts again from 1.
      this.#index.resume(verdict.applied ? 2 : 1);
    } else if (message && messageId) {
      verdict = judgeReadBack(streamTextOf(message.msgBody), this.#sent, attempt, messageId);
      if (verdict) this.#index.settle(verdict.applied);
    }
    if (!verdict) return undefined;
    if (verdict.applied) this.#sent += attempt.length;
    this.#attempt = undefined;
    return verdict;
  }

  next(): void {
    this.#streamMsgId = undefined;
    this.#index.reset();
    this.#random = randomUint32();
  }

  snapshot(): MessageState | undefined {
    if (this.#streamMsgId === undefined) return undefined;
    return { messageId: this.#streamMsgId, next: this.#index.expected, random: this.#random };
  }

  opening(): MessageState {
    return { messageId: '', random: this.#random, opening: { at: Math.floor(Date.now() / 1000) } };
  }

  resume(state: MessageState): void {
    if (state.random !== undefined) this.#random = state.random;
    if (state.opening) {
      // Another process's first call, on its way when it died: `readBack()` finds its message.
      this.#streamMsgId = undefined;
      this.#openedAt = state.opening.at;
      this.#attempt = '';
      return;
    }
    this.#streamMsgId = state.messageId;
    this.#index.resume(state.next ?? 1);
  }

  async sendPlain(text: string): Promise<void> {
    await this.plain(text);
  }
}
