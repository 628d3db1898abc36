import * as z from 'zod';
import { parseInput } from '../validation.js';
import type { AnswerPart } from './parts.js';
import { type PlanLimits, planWindowUnits } from './plan.js';
import type { StreamTransport } from './transport.js';
import { TypingIndicator } from './typing.js';

const streamSessionOptions = z.strictObject({
  /** Least time between two calls of this session, unless `maxChunkBytes` of text is waiting. Default 200 ms. */
  minIntervalMs: z.number().int().min(0).max(60_000).optional(),
  /** Most UTF-8 bytes one call carries; this much waiting text is sent without waiting for `minIntervalMs`. Default 4096. */
  maxChunkBytes: z.number().int().min(64).optional(),
  /** A session with no `write()` for this long (and no writer held back by it) is finished. Default 10 000 ms. */
  idleTimeoutMs: z.number().int().positive().optional(),
  /** `write()` returns false once this many UTF-8 bytes wait to be sent; `'drain'` follows. Default 64 KiB. */
  highWaterMark: z.number().int().positive().optional(),
  /** Keep everything written for `text` and `finish.text` (default true); false keeps the heap flat for endless producers. */
  keepText: z.boolean().optional(),
  /** Written at the end of the message when `pipeFrom()`'s source fails. Default " (answer interrupted)"; '' for none. */
  onSourceError: z.string().optional(),
  /**
   * What the typing signal names while a part of `pipeFrom()`'s source that is not text runs (a
   * tool call, a task): default its tool name or title; a function chooses; false names nothing.
   */
  statusText: z
    .union([
      z.literal(false),
      z.custom<(part: AnswerPart) => string | undefined>(
        (v) => typeof v === 'function',
        'must be a function',
      ),
    ])
    .optional(),
  /**
   * Tells the user the bot is typing until the first text is written: `true` for the cloud's
   * signal (where it has one for the target), or an indicator already running (a receiver starts
   * one when the handler starts). Default false.
   */
  typing: z.union([z.boolean(), z.instanceof(TypingIndicator)]).optional(),
  /**
   * Whether the message renders as markdown while it grows, so that a chunk does not end inside a
   * table row, a link or image, an inline code span or a fence's opening line: such text waits for
   * what closes it, at most `maxHoldChars` characters (default 200) or `maxHoldMs` (default 1000).
   * Default: on where the client renders the stream as markdown (Tencent `stream_msg`, RongCloud).
   */
  markdown: z
    .union([
      z.boolean(),
      z.strictObject({
        maxHoldChars: z.number().int().min(0).optional(),
        maxHoldMs: z.number().int().min(0).optional(),
      }),
    ])
    .optional(),
  /** Aborts the session when it fires. */
  signal: z.instanceof(AbortSignal, { message: 'must be an AbortSignal' }).optional(),
  /** Monotonic clock in milliseconds; injectable for tests. Default: the client's scheduler's clock. */
  now: z
    .custom<() => number>((value) => typeof value === 'function', 'must be a function returning milliseconds')
    .optional(),
});

/** Options of `openStream()`: validated, so a mistake is a `ValidationError` naming the option. */
export type StreamSessionOptions = z.input<typeof streamSessionOptions>;

/** Room kept free in a message so that the call that closes it always has text to carry. */
const RESERVE_BYTES = 256;

/** A session's options, checked and completed with their defaults and the transport's limits. */
export interface SessionSettings {
  now: () => number;
  minIntervalMs: number;
  idleTimeoutMs: number;
  highWaterMark: number;
  onSourceError: string;
  statusText: false | ((part: AnswerPart) => string | undefined) | undefined;
  keepText: boolean;
  limits: PlanLimits;
  /** UTF-16 units of pending text a plan looks at. */
  windowUnits: number;
  /** The markdown holdback's bounds, when it is on. */
  markdown: { maxHoldChars: number; maxHoldMs: number } | undefined;
  /** A typing indicator already running, which the first text stops. */
  typing: TypingIndicator | undefined;
  signal: AbortSignal | undefined;
}

/**
 * Validates `options` (a `ValidationError` names the one that is wrong) and completes them with
 * their defaults and what `transport` allows: a pure function, so that the session holds settings
 * only, never raw options.
 */
export function sessionSettings(
  options: StreamSessionOptions,
  transport: StreamTransport,
  clock: () => number,
): SessionSettings {
  const o = parseInput(streamSessionOptions, options, 'stream');
  const limits: PlanLimits = {
    maxMessageBytes: transport.maxMessageBytes,
    maxChunkBytes: Math.min(o.maxChunkBytes ?? 4096, transport.maxMessageBytes),
    reserveBytes: Math.min(RESERVE_BYTES, Math.floor(transport.maxMessageBytes / 4)),
    emptyFinalChunk: transport.emptyFinalChunk,
  };
  const markdown = o.markdown ?? transport.markdown ?? false;
  const bounds = markdown === false ? undefined : markdown === true ? {} : markdown;
  return {
    now: o.now ?? clock,
    minIntervalMs: o.minIntervalMs ?? 200,
    idleTimeoutMs: o.idleTimeoutMs ?? 10_000,
    highWaterMark: o.highWaterMark ?? 64 * 1024,
    onSourceError: o.onSourceError ?? ' (answer interrupted)',
    statusText: o.statusText,
    keepText: o.keepText ?? true,
    limits,
    windowUnits: planWindowUnits(limits),
    markdown: bounds && { maxHoldChars: bounds.maxHoldChars ?? 200, maxHoldMs: bounds.maxHoldMs ?? 1000 },
    typing: o.typing instanceof TypingIndicator ? o.typing : undefined,
    signal: o.signal,
  };
}

/** Runs `abort` when `signal` fires (at once if it has); returns what stops listening. */
export function followSignal(signal: AbortSignal | undefined, abort: (reason: unknown) => void): () => void {
  if (!signal) return () => undefined;
  if (signal.aborted) {
    abort(signal.reason);
    return () => undefined;
  }
  const onAbort = () => abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  return () => signal.removeEventListener('abort', onAbort);
}
