import type { z } from 'zod';
import { mentionPrefix } from '../message/rich.js';
import {
  type EndReason,
  judgeReadBack,
  type MessageState,
  type ReadBack,
  STREAM_IDLE_LIMIT_MS,
  StreamSequence,
  type StreamTransport,
} from '../stream/transport.js';
import { utf8Bytes } from '../validation.js';
import { RONGCLOUD_PARAMETER_ERROR } from './codes.js';
import { RongCloudApiError } from './errors.js';
import { RONG_MESSAGE_MAX_BYTES, streamAnswer } from './schemas.js';

/** Where a RongCloud stream goes: from a bot to a user, or to a group. */
export type RongStreamTarget =
  | { from: string; to: string }
  | { from: string; groupId: string; mention?: readonly string[] | undefined };

type Call = <S extends z.ZodType>(
  path: string,
  json: Record<string, unknown>,
  schema: S,
) => Promise<z.output<S>>;

/**
 * RongCloud streaming (`publish_stream.json`, `RC:StreamMsg`): each call carries the next piece as
 * `content`, with `seq` counting from 1 and `complete` on the last (which may be empty); the first
 * call's answer names the `messageUID` that later calls repeat. In a group it may @-mention users:
 * `@id ` in front of the first piece, and `mentionedInfo` on the first call.
 */
export class RongStreamTransport implements StreamTransport {
  readonly rateKey: string;
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

  constructor(
    private readonly call: Call,
    private readonly plain: (text: string) => Promise<unknown>,
    private readonly target: RongStreamTarget,
    private readonly getStream?: (messageUID: string) => Promise<{ content: string }>,
  ) {
    this.rateKey =
      'groupId' in target
        ? '/v3/message/group/publish_stream.json'
        : '/v3/message/private/publish_stream.json';
    this.#mention = 'groupId' in target ? (target.mention ?? []) : [];
    const prefixBytes = utf8Bytes(mentionPrefix(this.#mention));
    this.maxMessageBytes = RONG_MESSAGE_MAX_BYTES - 1 - prefixBytes;
    this.maxPlainBytes = RONG_MESSAGE_MAX_BYTES - 1024 - prefixBytes;
  }

  async send(chunk: string, final: boolean, end?: EndReason): Promise<{ messageId: string }> {
    const t = this.target;
    const answer = await this.#seq.next((seq) => {
      const opening = seq === 1 && this.#mention.length > 0;
      const text = opening ? `${mentionPrefix(this.#mention)}${chunk}` : chunk;
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
      return this.call(this.rateKey, body, streamAnswer);
    });
    this.#messageUID = answer.messageUID;
    this.#sent += this.#attempt?.length ?? 0;
    this.#attempt = undefined;
    return { messageId: answer.messageUID };
  }

  /**
   * Reads the stream back (`get_stream.json`) after a later call of unknown outcome: its content
   * tells whether the call was applied, and so which `seq` comes next. A lost first call cannot be
   * read back: its `messageUID` is what was lost, and RongCloud has no history to find it by.
   */
  async readBack(): Promise<ReadBack | undefined> {
    const uid = this.#messageUID;
    const attempt = this.#attempt;
    if (!this.getStream || uid === undefined || attempt === undefined) return undefined;
    const { content } = await this.getStream(uid);
    const verdict = judgeReadBack(content, this.#sent, attempt, uid);
    if (!verdict) return undefined;
    this.#seq.settle(verdict.applied);
    if (verdict.applied) this.#sent += attempt.length;
    this.#attempt = undefined;
    return verdict;
  }

  next(): void {
    this.#messageUID = undefined;
    this.#seq.reset();
    this.#sent = 0;
  }

  snapshot(): MessageState | undefined {
    return this.#messageUID === undefined
      ? undefined
      : { messageId: this.#messageUID, next: this.#seq.expected };
  }

  resume(state: MessageState): void {
    this.#messageUID = state.messageId;
    this.#seq.resume(state.next ?? 1);
  }

  async sendPlain(text: string): Promise<void> {
    await this.plain(text);
  }
}
