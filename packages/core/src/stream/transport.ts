import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { z } from 'zod';
import { outcomeUnknown } from '../errors.js';
import type { TurnPermit } from '../limits/turn-permit.js';

/**
 * How long an open streamed message may wait for its next call before the cloud ends it: 15 s, as
 * Tencent documents for `stream_msg`; the robot API and RongCloud are treated the same.
 */
export const STREAM_IDLE_LIMIT_MS = 15_000;

/**
 * One cloud's way of streaming a message, as the stream session sees it: send the next chunk of
 * the current message (the first call opens it, `final` closes it), start over with a new message,
 * or send a plain message when streaming has failed. The session owns the text and the timing; the
 * transport owns the protocol's ids and counters.
 */
/**
 * Why the answer ends, told to the cloud on the closing call of its last message where the cloud's
 * stream carries a reason (RongCloud's `completeReason`): it completed, the user stopped it, it was
 * interrupted otherwise (a newer message, shutdown, idle), or it failed.
 */
export type EndReason = 'completed' | 'stopped' | 'interrupted' | 'error';

export interface StreamTransport {
  /** The rate limiter key of the streaming API: all sessions on it share its budget. */
  readonly rateKey: string;
  /**
   * The fields of its calls the cloud's rate table counts by, where they name a budget of their own
   * (`{ GroupId }`: a group's 40 a second): the scheduler charges each call to those budgets too.
   */
  readonly rateFields?: Readonly<Record<string, unknown>>;
  /** Most UTF-8 bytes one message may grow to; past it the session continues in a new message. */
  readonly maxMessageBytes: number;
  /** Most UTF-8 bytes of one plain message (`sendPlain`). */
  readonly maxPlainBytes: number;
  /** Least time between the starts of two calls of one stream (a per-stream limit of the cloud). */
  readonly minCallIntervalMs: number;
  /** Whether the closing call may carry an empty chunk; if not, the session holds back a grapheme. */
  readonly emptyFinalChunk: boolean;
  /** How long the cloud keeps an open message waiting for its next call before it ends it. */
  readonly idleLimitMs: number;
  /** Whether the user's client renders the streamed message as markdown. */
  readonly markdown?: boolean;
  /**
   * Sends `chunk` as the next part of the current message, opening one if needed. Called in the
   * session's turn, whose budget `permit` travels with the call (to its `StreamCall`), however long
   * the way. Resolves with the message's id.
   */
  send(chunk: string, final: boolean, end?: EndReason, permit?: TurnPermit): Promise<{ messageId: string }>;
  /** Forgets the current message: the next `send` opens a new one. */
  next(): void;
  /** Sends `text` as one ordinary message, the fallback when streaming fails. */
  sendPlain(text: string): Promise<void>;
  /**
   * After a call failed with an unknown outcome, reads back what the cloud holds to learn whether it
   * was applied. For the call that opened a message the message is looked for in the conversation's
   * history (and, found, continued); for a later call the message's text is compared with what was
   * sent. Undefined when the cloud cannot tell. Absent where the cloud has no read-back. `signal`
   * cuts short any wait it makes (the session is aborted): it then judges by what it has seen.
   */
  readBack?(signal?: AbortSignal): Promise<ReadBack | undefined>;
  /** What another process needs to close the open message (no text): absent when none is open. */
  snapshot(): MessageState | undefined;
  /**
   * Before the call that opens a message with `chunk`: what another process needs to find that
   * message in the cloud's history and close it, should this one die before the answer (no text:
   * a digest of it). Absent where the cloud has no read-back for a first call.
   */
  opening?(chunk: string): MessageState | undefined;
  /** Takes over an open message from its `snapshot()`: the next `send` continues it. */
  resume(state: MessageState): void;
}

/**
 * How a cloud's stream transport reaches its REST API: one `unapplied`-mode call through the client's
 * request layer, of API `api` with a JSON `body`, answered in `schema`'s shape. `permit` is the
 * permit of the session's turn: the call's first attempt spends it.
 */
export type StreamCall = <S extends z.ZodType>(
  api: string,
  body: Record<string, unknown>,
  schema: S,
  permit?: TurnPermit,
) => Promise<z.output<S>>;

/** Seconds of clock difference with the cloud allowed around an opening call's time in a read-back. */
export const CLOCK_SLACK_SECONDS = 2;

/** What a read-back learnt of a call whose outcome was unknown. */
export type ReadBack = { applied: true; messageId: string } | { applied: false };

/**
 * Compares the text a cloud holds for a message with what was sent: `sent` UTF-16 units confirmed
 * before the call, `chunk` the call's. Applied, not applied, or (neither length) unknown.
 */
export function judgeReadBack(
  held: string,
  sent: number,
  chunk: string,
  messageId: string,
): ReadBack | undefined {
  if (held.length === sent + chunk.length && held.endsWith(chunk)) return { applied: true, messageId };
  if (held.length === sent) return { applied: false };
  return undefined;
}

/** An open streamed message as the cloud knows it: its id and the sequence number it expects next. */
export interface MessageState {
  /** Empty while the message's first call is on its way (`opening` then says how to find it). */
  messageId: string;
  /**
   * The first call is on its way: when it was made (seconds) and, where the message is found by its
   * text, a digest of the chunk (`random` finds it elsewhere).
   */
  opening?: { at: number; digest?: string };
  /** The next sequence number (`Index`, `seq`), where the API counts calls. */
  next?: number;
  /** The message's `MsgRandom`, where the API wants it on every call. */
  random?: number;
}

/**
 * The numbering of a stream whose calls carry a sequence number the cloud checks strictly (RongCloud
 * `seq`, Tencent `Index`). After a call whose outcome is unknown, the cloud may or may not have used
 * its number, so the next number is only known to lie in a range. The next call tries the highest
 * first (every unknown call was applied: the usual case of a reset after the cloud answered) and a
 * lower one each time the cloud refuses a number as out of order. Without this, the call that closes
 * the message after a failure would be refused, and the message left open.
 */
export class StreamSequence {
  /** The lowest and highest number the cloud may expect next. */
  #low = 1;
  #high = 1;
  readonly #pauseMs: number;
  readonly #outOfOrder: (error: unknown) => boolean;

  /**
   * `outOfOrder`: whether a refusal says the number was out of order (the cloud's parameter error),
   * the only refusal that makes the next try a lower number; any other is thrown as it is.
   * `pauseMs`: the least time between two calls of one stream, kept between two tries too.
   */
  constructor(outOfOrder: (error: unknown) => boolean, pauseMs = 0) {
    this.#outOfOrder = outOfOrder;
    this.#pauseMs = pauseMs;
  }

  /** Runs `attempt` with the next number; returns its result. */
  async next<T>(attempt: (seq: number) => Promise<T>): Promise<T> {
    for (;;) {
      const seq = this.#high;
      try {
        const result = await attempt(seq);
        this.#low = seq + 1;
        this.#high = seq + 1;
        return result;
      } catch (error) {
        if (outcomeUnknown(error)) {
          // This number may be used now; what lies below it may still be expected.
          this.#high = Math.max(this.#high, seq + 1);
          throw error;
        }
        if (!this.#outOfOrder(error) || seq <= this.#low) throw error;
        // Refused as out of order: the cloud does not expect this number, and never will.
        this.#high = seq - 1;
        if (this.#pauseMs > 0) await sleep(this.#pauseMs);
      }
    }
  }

  /** A read-back told whether the call of unknown outcome was applied: the next number is known again. */
  settle(applied: boolean): void {
    this.resume(applied ? this.#high : this.#low);
  }

  /** A new message starts from 1. */
  reset(): void {
    this.resume(1);
  }

  /** The number the next call will try first. */
  get expected(): number {
    return this.#high;
  }

  /** Continues a message whose next number is `next`. */
  resume(next: number): void {
    this.#low = next;
    this.#high = next;
  }
}

/** A short digest of a first chunk, so that a journal can find its message without keeping its text. */
export function chunkDigest(chunk: string): string {
  return createHash('sha256').update(chunk).digest('base64url').slice(0, 22);
}
