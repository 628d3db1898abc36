import type { RateLimitPermit } from '../limits/rate-limiter.js';

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
export interface StreamTransport {
  /** The rate limiter key of the streaming API: all sessions on it share its budget. */
  readonly rateKey: string;
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
  /**
   * Sends `chunk` as the next part of the current message, opening one if needed, using `permit`
   * for its first attempt. Resolves with the message's id.
   */
  send(chunk: string, final: boolean, permit: RateLimitPermit): Promise<{ messageId: string }>;
  /** Forgets the current message: the next `send` opens a new one. */
  next(): void;
  /** Sends `text` as one ordinary message, the fallback when streaming fails. */
  sendPlain(text: string): Promise<void>;
}
