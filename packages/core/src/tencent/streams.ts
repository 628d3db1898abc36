import * as z from 'zod';
import { mentionPrefix } from '../message/rich.js';
import {
  type MessageState,
  STREAM_IDLE_LIMIT_MS,
  StreamSequence,
  type StreamTransport,
} from '../stream/transport.js';
import { utf8Bytes } from '../validation.js';
import { findInHistory, streamMsgIdOf, type TencentHistory, textOf } from './history.js';
import { randomUint32 } from './protocol.js';
import { envelope, MESSAGE_MAX_BYTES, sendStreamMsgAnswer } from './schemas.js';

/** How a transport reaches the REST API: one `unapplied`-mode call through the request layer. */
export type StreamCall = <S extends z.ZodType>(
  api: string,
  body: Record<string, unknown>,
  schema: S,
) => Promise<z.output<S>>;

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
  /** The last opening call: its chunk and when it was made (seconds), for `recover()`. */
  #opening: { chunk: string; at: number } | undefined;
  /** Keys of the messages this transport opened: a read-back never adopts one of them again. */
  readonly #opened = new Set<string>();

  constructor(
    private readonly call: StreamCall,
    private readonly plain: (text: string) => Promise<unknown>,
    private readonly from: string,
    private readonly to: string,
    private readonly history?: TencentHistory,
  ) {}

  async send(chunk: string, final: boolean): Promise<{ messageId: string }> {
    if (this.#msgKey === undefined) this.#opening = { chunk, at: Math.floor(Date.now() / 1000) };
    const body = {
      From_Account: this.from,
      To_Account: this.to,
      Chunk: chunk,
      MsgKey: this.#msgKey,
      Finish: final ? 1 : undefined,
    };
    const answer = await this.call(this.rateKey, body, sendStreamMsgAnswer);
    this.#msgKey = answer.MsgKey;
    this.#opened.add(answer.MsgKey);
    return { messageId: answer.MsgKey };
  }

  /**
   * Finds the message a lost opening call opened in the robot's one-to-one history
   * (`admin_getroammsg`): sent by the robot since the call, holding exactly the call's chunk, and not
   * one this transport opened before.
   */
  async recover(): Promise<{ messageId: string } | undefined> {
    const opening = this.#opening;
    if (!this.history || !opening || this.#msgKey !== undefined) return undefined;
    const found = await findInHistory(
      this.history,
      { operator: this.from, peer: this.to },
      opening.at,
      (m) =>
        m.from === this.from &&
        m.msgKey !== undefined &&
        !this.#opened.has(m.msgKey) &&
        !m.recalled &&
        textOf(m.msgBody) === opening.chunk,
    );
    if (!found?.msgKey) return undefined;
    this.#msgKey = found.msgKey;
    this.#opened.add(found.msgKey);
    return { messageId: found.msgKey };
  }

  next(): void {
    this.#msgKey = undefined;
  }

  snapshot(): MessageState | undefined {
    return this.#msgKey === undefined ? undefined : { messageId: this.#msgKey };
  }

  resume(state: MessageState): void {
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
  readonly maxMessageBytes: number;
  readonly maxPlainBytes: number;
  readonly minCallIntervalMs = 200;
  readonly emptyFinalChunk = true;
  readonly idleLimitMs = STREAM_IDLE_LIMIT_MS;
  #streamMsgId: string | undefined;
  readonly #index = new StreamSequence(this.minCallIntervalMs);
  #random = randomUint32();
  /** `@id ` for each mentioned user, in front of each message's first chunk. */
  readonly #prefix: string;
  /** When the current message's opening call was made (seconds), for `recover()`. */
  #openedAt = 0;

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
    this.#prefix = 'groupId' in target ? mentionPrefix(target.mention ?? []) : '';
    const prefixBytes = utf8Bytes(this.#prefix);
    this.maxMessageBytes = STREAM_MSG_MAX_BYTES - prefixBytes;
    this.maxPlainBytes = MESSAGE_MAX_BYTES - prefixBytes;
  }

  async send(chunk: string, final: boolean): Promise<{ messageId: string }> {
    const target = this.target;
    if (this.#streamMsgId === undefined) this.#openedAt = Math.floor(Date.now() / 1000);
    const answer = await this.#index.next((index) => {
      const opening = index === 1;
      const markdown = opening ? `${this.#prefix}${chunk}` : chunk;
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
      return this.call(this.rateKey, body, streamMsgAnswer);
    });
    this.#streamMsgId = answer.StreamMsgID;
    // A group message's edits and recalls name it by MsgSeq; the stream goes on by StreamMsgID.
    return { messageId: answer.MsgSeq !== undefined ? String(answer.MsgSeq) : answer.StreamMsgID };
  }

  /**
   * Finds the message a lost opening call opened in the conversation's history
   * (`admin_getroammsg`, or `group_msg_get_simple` in a group) by the `MsgRandom` every call of the
   * message carries, and continues it from `Index` 2.
   */
  async recover(): Promise<{ messageId: string } | undefined> {
    const history = this.history;
    if (!history || this.#streamMsgId !== undefined || this.#openedAt === 0) return undefined;
    const t = this.target;
    const from = t.from ?? history.admin;
    const where = 'groupId' in t ? { groupId: t.groupId } : { operator: from, peer: t.to };
    const found = await findInHistory(
      history,
      where,
      this.#openedAt,
      (m) => m.from === from && m.msgRandom === this.#random && streamMsgIdOf(m.msgBody) !== undefined,
    );
    const streamMsgId = found && streamMsgIdOf(found.msgBody);
    if (!found || !streamMsgId) return undefined;
    this.#streamMsgId = streamMsgId;
    this.#index.resume(2);
    return { messageId: 'groupId' in t ? String(found.msgSeq) : streamMsgId };
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

  resume(state: MessageState): void {
    this.#streamMsgId = state.messageId;
    this.#index.resume(state.next ?? 1);
    if (state.random !== undefined) this.#random = state.random;
  }

  async sendPlain(text: string): Promise<void> {
    await this.plain(text);
  }
}
