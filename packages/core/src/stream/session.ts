import { EventEmitter } from 'eventemitter3';
import * as z from 'zod';
import {
  ImbotError,
  isTransient,
  outcomeUnknown,
  StoppedError,
  StreamClosedError,
  StreamSourceError,
  TimeoutError,
  ValidationError,
} from '../errors.js';
import type { TurnPermit } from '../limits/turn-permit.js';
import { parseInput } from '../validation.js';
import { cleanCut, LOOKAHEAD_UNITS } from './chunking.js';
import { DueTimer } from './due-timer.js';
import { advanceMarkdown, type MarkdownCursor, markdownSafeEnd, START_OF_MARKDOWN } from './markdown.js';
import { type AnswerPart, meaningOf } from './parts.js';
import { PendingText } from './pending.js';
import { type PlanLimits, type PlanMode, type PlannedCall, planCall, planWindowUnits } from './plan.js';
import type { CallKind, Schedulable, StreamScheduler } from './scheduler.js';
import { type AnswerSource, readText } from './source.js';
import type { EndReason, StreamTransport } from './transport.js';
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

export type FinishReason = 'completed' | 'aborted' | 'error';

/** How a session ended. Exactly one `finish` fires per session, carrying this. */
export interface StreamFinish {
  reason: FinishReason;
  /** Everything written to the session (what is still pending only, with `keepText: false`). */
  text: string;
  /** REST calls made: streamed chunks and plain fallback messages. */
  calls: number;
  /** Messages the user received (a long text continues in a new message; a fallback adds more). */
  messages: number;
  /** Whether part of the text went out as a plain message after streaming failed. */
  fallback: boolean;
  /** Text that could not be delivered at all (empty unless the fallback failed too). */
  undelivered: string;
  /** The failure that ended the stream, for `reason: 'error'` (a `StreamSourceError` when the source failed). */
  error?: ImbotError;
  /** What `abort()` was given, for `reason: 'aborted'` (`'idle'` after `idleTimeoutMs`). */
  abortReason?: unknown;
}

export interface StreamSessionEvents {
  /** A message was opened: its id is known. */
  open: (info: { messageId: string; message: number }) => void;
  /** A chunk reached the cloud; `latencyMs` is how long its oldest text waited since `write()`. */
  flush: (info: { chunk: string; bytes: number; latencyMs: number; final: boolean }) => void;
  /** Pending text fell below `highWaterMark` after `write()` returned false: write more. */
  drain: () => void;
  finish: (result: StreamFinish) => void;
  error: (error: ImbotError) => void;
}

/**
 * The lifecycle, and the session's only state besides its text and counters. `streaming`: text comes
 * in and goes out as chunks. `sealing`: the cloud's idle limit is near, so the open message closes
 * with the next call; then `streaming` again. `closing`: `end()` or `abort()` was called; the rest
 * goes out, then the closing call. `recovering`: a call failed for good; one closing call carries the
 * failed chunk. `plain`: streaming has failed; text goes out as plain messages. `finished`: `finish`
 * has fired.
 */
type Phase = 'streaming' | 'sealing' | 'closing' | 'recovering' | 'plain' | 'finished';

const TRANSITIONS: Record<Phase, readonly Phase[]> = {
  streaming: ['sealing', 'closing', 'recovering', 'plain', 'finished'],
  sealing: ['streaming', 'closing', 'recovering', 'plain', 'finished'],
  closing: ['recovering', 'plain', 'finished'],
  recovering: ['plain', 'finished'],
  plain: ['finished'],
  finished: [],
};

/** The closing call after a failure is tried this often while its failures are transient. */
const CLOSE_ATTEMPTS = 5;

/** Calls of unknown outcome a session settles by reading the cloud back before it stops streaming. */
const READ_BACKS = 8;
/**
 * After a call's deadline passed, the cloud may still be applying it: the read-back waits this long
 * first, so that it sees what a slow cloud did rather than judge a call not applied that lands later.
 */
const READ_BACK_AFTER_TIMEOUT_MS = 2000;

/** Room kept free in a message so that the call that closes it always has text to carry. */
const RESERVE_BYTES = 256;

/**
 * An open message with nothing to send closes itself this far into the cloud's idle limit, so the
 * cloud never ends it as abandoned; the next text opens a new message.
 */
const SEAL_AFTER = 0.8;

function asImbotError(error: unknown): ImbotError {
  return error instanceof ImbotError
    ? error
    : new ImbotError('STREAM_FAILED', `streaming failed: ${(error as Error)?.message ?? String(error)}`);
}

/**
 * Text produced bit by bit (an LLM's tokens) delivered as one message that grows on the user's
 * screen. Text collects in a pending buffer that goes out as one chunk when the session's turn comes
 * (one call in flight at a time), so under rate pressure a session sends bigger chunks, not more
 * calls. `write()` returns false once `highWaterMark` bytes wait, as a Node stream does, and
 * `pipeFrom()` and `writable` wait for `'drain'` before reading more. `end()` always makes the
 * closing call, and exactly one `finish` event reports how it went. When streaming fails for good,
 * the message is closed and the text not yet shown is sent as plain messages.
 *
 * @example
 * const session = im.openStream({ from: '@RBT#helper', to: 'user01' });
 * const result = await session.pipeFrom(streamText({ model, prompt }).textStream);
 */
export class StreamSession extends EventEmitter<StreamSessionEvents> implements Schedulable {
  readonly rateKey: string;
  readonly idleLimitMs: number;
  readonly #transport: StreamTransport;
  readonly #scheduler: StreamScheduler;
  readonly #now: () => number;
  readonly #minIntervalMs: number;
  readonly #idleTimeoutMs: number;
  readonly #highWaterMark: number;
  readonly #onSourceError: string;
  readonly #statusText: false | ((part: AnswerPart) => string | undefined) | undefined;
  readonly #keepText: boolean;
  readonly #limits: PlanLimits;
  readonly #windowUnits: number;

  #phase: Phase = 'streaming';
  readonly #pending = new PendingText();
  /** Text taken from the pending buffer, in order: with it, everything written. */
  #taken: string[] = [];
  #reason: FinishReason = 'completed';
  #abortReason: unknown;
  #error: ImbotError | undefined;
  /** A call (streamed or plain) is on its way: the session makes one at a time. */
  #inFlight = false;
  /** The line the session waits in for its next call, if it does. */
  #queued: CallKind | undefined;
  #closeAttempts = 0;
  #readBacks = 0;
  /** The id of the open message, while one is open. */
  #messageId: string | undefined;
  #messageBytes = 0;
  #messages = 0;
  /** Messages sent plain after streaming failed. */
  #plainMessages = 0;
  #calls = 0;
  #lastCallStart = Number.NEGATIVE_INFINITY;
  #lastCallEnd = Number.NEGATIVE_INFINITY;
  #waitTimer: NodeJS.Timeout | undefined;
  readonly #idle: DueTimer;
  readonly #keepAlive: DueTimer;
  /** While the writer is told to wait (`write()` returned false): resolved at `'drain'`. */
  #drained: { promise: Promise<void>; resolve: () => void } | undefined;
  readonly #done: Promise<StreamFinish>;
  #resolveDone!: (result: StreamFinish) => void;
  #writable: WritableStream<string> | undefined;
  #detachSignal: (() => void) | undefined;
  readonly #typing: TypingIndicator | undefined;
  /** Markdown holdback, when on: its bounds, and what the delivered text leaves open. */
  readonly #markdown: { maxHoldChars: number; maxHoldMs: number } | undefined;
  #markdownCursor: MarkdownCursor = START_OF_MARKDOWN;
  #holdTimer: NodeJS.Timeout | undefined;

  constructor(transport: StreamTransport, scheduler: StreamScheduler, options: StreamSessionOptions = {}) {
    super();
    const o = parseInput(streamSessionOptions, options, 'stream');
    this.#transport = transport;
    this.#scheduler = scheduler;
    this.rateKey = transport.rateKey;
    this.idleLimitMs = transport.idleLimitMs;
    this.#now = o.now ?? scheduler.now;
    this.#minIntervalMs = o.minIntervalMs ?? 200;
    this.#idleTimeoutMs = o.idleTimeoutMs ?? 10_000;
    this.#highWaterMark = o.highWaterMark ?? 64 * 1024;
    this.#onSourceError = o.onSourceError ?? ' (answer interrupted)';
    this.#statusText = o.statusText;
    this.#keepText = o.keepText ?? true;
    this.#limits = {
      maxMessageBytes: transport.maxMessageBytes,
      maxChunkBytes: Math.min(o.maxChunkBytes ?? 4096, transport.maxMessageBytes),
      reserveBytes: Math.min(RESERVE_BYTES, Math.floor(transport.maxMessageBytes / 4)),
      emptyFinalChunk: transport.emptyFinalChunk,
    };
    this.#windowUnits = planWindowUnits(this.#limits);
    this.#done = new Promise((resolve) => {
      this.#resolveDone = resolve;
    });
    this.#idle = new DueTimer(this.#now, () => this.#onIdle());
    this.#keepAlive = new DueTimer(this.#now, () => this.#seal());
    scheduler.register(this);
    this.#idle.set(this.#now() + this.#idleTimeoutMs);
    this.#typing = o.typing instanceof TypingIndicator ? o.typing : undefined;
    const markdown = o.markdown ?? transport.markdown ?? false;
    if (markdown !== false) {
      const bounds = markdown === true ? {} : markdown;
      this.#markdown = { maxHoldChars: bounds.maxHoldChars ?? 200, maxHoldMs: bounds.maxHoldMs ?? 1000 };
    }
    this.#typing?.start();
    const signal = o.signal;
    if (signal?.aborted) void this.abort(signal.reason);
    else if (signal) {
      const onAbort = () => void this.abort(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      this.#detachSignal = () => signal.removeEventListener('abort', onAbort);
    }
  }

  /** Everything written so far (what is still pending only, with `keepText: false`). */
  get text(): string {
    if (this.#taken.length > 1) this.#taken = [this.#taken.join('')];
    return (this.#taken[0] ?? '') + this.#pending.all();
  }

  /** True once `end()` or `abort()` was called: `write()` throws from then on. */
  get closed(): boolean {
    return this.#pending.ended || this.#phase === 'finished';
  }

  /** UTF-8 bytes written and not yet sent. */
  get pendingBytes(): number {
    return this.#pending.bytes;
  }

  /** Resolves with the outcome once the session has finished. */
  get done(): Promise<StreamFinish> {
    return this.#done;
  }

  /**
   * Adds text to the message. Never waits and never refuses text; returns false once
   * `highWaterMark` bytes wait to be sent (write again after `'drain'`), as a Node stream does.
   * Throws `StreamClosedError` after `end()` or `abort()`.
   */
  write(text: string): boolean {
    if (typeof text !== 'string') throw new ValidationError('text', 'write(text): text must be a string');
    if (this.closed) {
      throw new StreamClosedError('write() after the stream session ended', { cause: this.#error });
    }
    if (text !== '') {
      this.#typing?.stop();
      const now = this.#now();
      this.#pending.push(text, now);
      this.#idle.set(now + this.#idleTimeoutMs);
      this.#consider();
    }
    if (this.#pending.bytes < this.#highWaterMark) return true;
    if (!this.#drained) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => {
        resolve = r;
      });
      this.#drained = { promise, resolve };
    }
    return false;
  }

  /** Writes `text` if given, then closes the message; resolves once the closing call is delivered. */
  end(text?: string): Promise<StreamFinish> {
    if (this.closed) return this.#done;
    if (text) this.write(text);
    return this.#close();
  }

  /**
   * Stops taking text and closes the message with what was written (the closing call is still made,
   * so the user's message does not hang); `finish` reports `reason: 'aborted'`.
   */
  abort(reason?: unknown): Promise<StreamFinish> {
    if (this.closed) return this.#done;
    if (this.#reason !== 'error') this.#reason = 'aborted';
    this.#abortReason = reason;
    return this.#close();
  }

  /**
   * Writes everything `source` yields, waiting for `'drain'` whenever the session holds
   * `highWaterMark` bytes, then ends the session and resolves with the outcome.
   *
   * Takes text (`AsyncIterable<string>` or `ReadableStream<string>`: an AI SDK `textStream`), or an
   * AI SDK `fullStream`, or the Chat SDK's structured chunks: their text is written, and what runs
   * meanwhile (reasoning, tool calls, tasks) keeps the typing signal alive, naming it (`statusText`).
   *
   * If `source` throws or yields an `error` part, the message is closed with what was written and
   * `onSourceError`, `finish` reports `reason: 'error'` with a `StreamSourceError` whose `cause` is
   * the source's error, and `pipeFrom()` rejects with that error once the message is closed: a
   * failed answer is never mistaken for a finished one.
   */
  async pipeFrom(source: AnswerSource): Promise<StreamFinish> {
    try {
      for await (const item of readText<string | AnswerPart>(source)) {
        if (this.closed) break;
        const meaning = meaningOf(item);
        if (meaning.kind === 'text') {
          if (!this.write(meaning.text)) await this.#drain();
        } else if (meaning.kind === 'progress') {
          const statusText = this.#statusText;
          this.#typing?.status(
            statusText === false ? undefined : statusText ? statusText(meaning.part) : meaning.name,
          );
        } else if (meaning.kind === 'error') throw meaning.error;
      }
    } catch (cause) {
      if (this.closed) return this.#done;
      throw await this.#sourceFailed(cause);
    }
    return this.end();
  }

  /**
   * The session as a `WritableStream<string>`: `source.pipeTo(session.writable)`. Its queue and
   * its writes wait for `'drain'`, so `pipeTo` slows the source to what the session delivers. When
   * the source fails, `pipeTo` aborts the stream, which finishes the session as `pipeFrom()` would.
   */
  get writable(): WritableStream<string> {
    this.#writable ??= new WritableStream<string>(
      {
        write: (text) => (this.write(text) ? undefined : this.#drain()),
        close: async () => {
          await this.end();
        },
        abort: async (reason) => {
          if (!this.closed) await this.#sourceFailed(reason);
        },
      },
      { highWaterMark: this.#highWaterMark, size: (text) => text.length },
    );
    return this.#writable;
  }

  /** @internal The scheduler's turn: make at most one call, now, handing it the turn's `permit`. */
  take(permit: TurnPermit): boolean {
    this.#queued = undefined;
    const plan = this.#phase === 'finished' || this.#phase === 'plain' ? undefined : this.#plan();
    if (!plan) {
      this.#consider();
      return false;
    }
    this.#inFlight = true;
    this.#calls++;
    this.#lastCallStart = this.#now();
    const since = this.#pending.oldestAt ?? this.#lastCallStart;
    // The call that closes the answer's last message says why it ends.
    const last = plan.final && this.#pending.ended && plan.units === this.#pending.units;
    this.#transport.send(plan.chunk, plan.final, last ? this.#endReason() : undefined, permit).then(
      ({ messageId }) => {
        permit.drop();
        this.#delivered(plan, messageId, since);
      },
      (error: unknown) => {
        permit.drop();
        this.#lost(error, plan, since);
      },
    );
    return true;
  }

  /** @internal The rate limiter refused to grant a call: the same as a failed call. */
  refused(error: unknown): void {
    this.#queued = undefined;
    this.#failed(error);
  }

  /** @internal The client is closing: finish now, still making the closing call. */
  shutdown(): Promise<StreamFinish> {
    return this.abort('client closed');
  }

  #endReason(): EndReason {
    if (this.#reason === 'error') return 'error';
    if (this.#reason === 'completed') return 'completed';
    return this.#abortReason instanceof StoppedError ? 'stopped' : 'interrupted';
  }

  #enter(phase: Phase): void {
    if (phase === this.#phase) return;
    if (!TRANSITIONS[this.#phase].includes(phase)) {
      throw new ImbotError('STREAM_STATE', `stream session cannot go from ${this.#phase} to ${phase}`);
    }
    this.#phase = phase;
  }

  #close(): Promise<StreamFinish> {
    this.#typing?.stop();
    this.#pending.end();
    if (this.#phase === 'streaming' || this.#phase === 'sealing') this.#enter('closing');
    this.#consider();
    return this.#done;
  }

  #mode(): PlanMode {
    if (this.#phase === 'recovering') return 'recovering';
    return this.#phase === 'closing' || this.#phase === 'sealing' ? 'closing' : 'stream';
  }

  #plan(): PlannedCall | undefined {
    const window = this.#pending.head(this.#windowUnits);
    const plan = planCall({
      mode: this.#mode(),
      window,
      whole: window.length === this.#pending.units,
      pendingBytes: this.#pending.bytes,
      messageOpen: this.#messageId !== undefined,
      messageBytes: this.#messageBytes,
      limits: this.#limits,
    });
    return plan && this.#markdown && !plan.final && this.#mode() === 'stream' ? this.#held(plan) : plan;
  }

  /**
   * `plan` shortened so that its chunk does not end inside a markdown construct that renders broken
   * until it closes; the rest waits for its closing text, within the holdback's bounds (past them
   * the chunk goes as planned). Undefined when all of it waits: a timer tries again at the bound.
   */
  #held(plan: PlannedCall): PlannedCall | undefined {
    const bounds = this.#markdown as { maxHoldChars: number; maxHoldMs: number };
    const safe = markdownSafeEnd(plan.chunk, this.#markdownCursor);
    if (safe === plan.units) return plan;
    const heldSince = this.#pending.oldestAt ?? this.#now();
    const releaseAt = heldSince + bounds.maxHoldMs;
    if (plan.units - safe > bounds.maxHoldChars || this.#now() >= releaseAt) return plan;
    if (this.#holdTimer === undefined) {
      this.#holdTimer = setTimeout(
        () => {
          this.#holdTimer = undefined;
          this.#consider();
        },
        Math.ceil(releaseAt - this.#now()),
      );
    }
    if (safe === 0) return undefined;
    const chunk = plan.chunk.slice(0, safe);
    return { chunk, units: safe, bytes: Buffer.byteLength(chunk), final: false };
  }

  /** Decides whether to line up for a call now, later (a timer), send plain text, or finish. */
  #consider(): void {
    if (this.#phase === 'finished' || this.#inFlight) return;
    if (this.#phase === 'plain') {
      this.#sendPlain();
      return;
    }
    if (this.#queued === 'close') return;
    const urgent = this.#mode() !== 'stream';
    // Waiting in line already: text written meanwhile joins the same call, unless it must close now.
    if (this.#queued && !urgent) return;
    const hurry = urgent || this.#pending.bytes >= this.#limits.maxChunkBytes;
    if (this.#waitTimer !== undefined) {
      if (!hurry) return;
      clearTimeout(this.#waitTimer);
      this.#waitTimer = undefined;
    }
    const plan = this.#plan();
    if (!plan) {
      if (this.#phase === 'closing') this.#complete();
      return;
    }
    const now = this.#now();
    let readyAt = this.#lastCallStart + this.#transport.minCallIntervalMs;
    if (!hurry) readyAt = Math.max(readyAt, this.#lastCallEnd + this.#minIntervalMs);
    if (now < readyAt) {
      this.#waitTimer = setTimeout(
        () => {
          this.#waitTimer = undefined;
          this.#consider();
        },
        Math.ceil(readyAt - now),
      );
      return;
    }
    const open = this.#messageId !== undefined;
    const kind: CallKind = plan.final || this.#phase === 'sealing' ? 'close' : open ? 'continue' : 'open';
    this.#queued = kind;
    this.#scheduler.ready(this, kind, {
      since: this.#pending.oldestAt ?? now,
      ...(open ? { deadline: this.#lastCallStart + this.idleLimitMs } : {}),
    });
  }

  #delivered(plan: PlannedCall, messageId: string, since: number): void {
    this.#inFlight = false;
    this.#lastCallEnd = this.#now();
    if (this.#messageId === undefined) {
      this.#messages++;
      this.emit('open', { messageId, message: this.#messages });
    }
    this.#messageId = messageId;
    this.#takeText(plan.chunk, plan.units, plan.bytes);
    this.#messageBytes += plan.bytes;
    if (this.#phase === 'sealing') this.#enter('streaming');
    const latencyMs = this.#lastCallEnd - since;
    this.#scheduler.delivered(latencyMs);
    this.emit('flush', { chunk: plan.chunk, bytes: plan.bytes, latencyMs, final: plan.final });
    if (plan.final) this.#messageEnded();
    else this.#keepAlive.set(this.#lastCallStart + this.idleLimitMs * SEAL_AFTER);
    if (this.#phase === 'recovering') this.#enter('plain');
    this.#consider();
  }

  /** The open message is closed, or given up: the next call opens a new one. */
  #messageEnded(): void {
    this.#transport.next();
    this.#messageId = undefined;
    this.#messageBytes = 0;
    this.#keepAlive.clear();
    this.#scheduler.messageClosed(this);
  }

  /**
   * A call failed. When its outcome is unknown (the cloud may have applied it and the answer was
   * lost), the transport reads back what the cloud holds: applied, the session goes on as if the
   * answer had come (for a lost opening call, with the message the call opened); not applied, the
   * next turn sends the chunk again. Either way the user sees one message with its text once, not a
   * dangling message beside a second or a chunk shown twice. After a deadline (the cloud may still
   * be applying the call) the read-back waits 2 s first. Any other failure, or a read-back that
   * cannot tell, is `#failed`.
   */
  #lost(error: unknown, plan: PlannedCall, since: number): void {
    const readBack = this.#transport.readBack;
    if (
      !readBack ||
      !outcomeUnknown(error) ||
      this.#phase === 'recovering' ||
      this.#readBacks >= READ_BACKS
    ) {
      this.#failed(error);
      return;
    }
    this.#readBacks++;
    const settle = () => readBack.call(this.#transport);
    const read =
      error instanceof TimeoutError
        ? new Promise<void>((resolve) => setTimeout(resolve, READ_BACK_AFTER_TIMEOUT_MS)).then(settle)
        : settle();
    read.then(
      (verdict) => {
        if (!verdict) this.#failed(error);
        else if (verdict.applied) this.#delivered(plan, verdict.messageId, since);
        else {
          this.#inFlight = false;
          this.#lastCallEnd = this.#now();
          this.#consider();
        }
      },
      () => this.#failed(error),
    );
  }

  /**
   * A call failed for good (the client already retried what was safe to retry), so streaming stops.
   * The open message is closed by a call that carries the failed chunk: text is never lost, and if
   * the failed call was applied after all, that one chunk shows twice. That call is tried up to five
   * times while its failures are transient, so the user is not left with a message that never ends.
   * Text keeps being accepted and goes out as plain messages.
   */
  #failed(cause: unknown): void {
    this.#inFlight = false;
    this.#lastCallEnd = this.#now();
    const error = asImbotError(cause);
    this.emit('error', error);
    if (this.#phase === 'recovering') {
      this.#closeAttempts++;
      if (!isTransient(error) || this.#closeAttempts >= CLOSE_ATTEMPTS) {
        this.#messageEnded();
        this.#enter('plain');
      }
    } else if (this.#phase !== 'finished' && this.#phase !== 'plain') {
      this.#error = error;
      this.#reason = 'error';
      const open = this.#messageId !== undefined;
      if (open && (!this.#pending.empty || this.#transport.emptyFinalChunk)) {
        this.#enter('recovering');
      } else {
        if (open) this.#messageEnded();
        else this.#scheduler.messageClosed(this);
        this.#enter('plain');
      }
    }
    this.#consider();
  }

  /**
   * Streaming has failed: text goes out as plain messages, one whenever a message's worth is
   * waiting, and the rest at the end.
   */
  #sendPlain(): void {
    const ended = this.#pending.ended;
    if (this.#pending.empty) {
      if (ended) this.#complete();
      return;
    }
    const max = this.#transport.maxPlainBytes;
    if (!ended && this.#pending.bytes < max) return;
    const window = this.#pending.head(max + LOOKAHEAD_UNITS);
    const cut = cleanCut(window, max, ended && window.length === this.#pending.units);
    const piece = window.slice(0, cut.units);
    this.#inFlight = true;
    this.#calls++;
    this.#transport.sendPlain(piece).then(
      () => {
        this.#inFlight = false;
        this.#plainMessages++;
        this.#messages++;
        this.#takeText(piece, cut.units, cut.bytes);
        this.#consider();
      },
      (cause: unknown) => {
        this.#inFlight = false;
        const error = asImbotError(cause);
        this.emit('error', error);
        this.#error ??= error;
        this.#complete();
      },
    );
  }

  /** Moves delivered text out of the pending buffer, and says `'drain'` once it is low again. */
  #takeText(text: string, units: number, bytes: number): void {
    if (units === 0) return;
    if (this.#markdown) this.#markdownCursor = advanceMarkdown(this.#markdownCursor, text);
    this.#pending.take(units, bytes);
    if (this.#keepText) this.#taken.push(text);
    if (this.#drained && this.#pending.bytes < this.#highWaterMark) {
      this.#releaseDrain();
      this.emit('drain');
    }
  }

  /** Resolves when the session can take more text (or has finished). */
  #drain(): Promise<void> {
    return this.#drained?.promise ?? Promise.resolve();
  }

  #releaseDrain(): void {
    this.#drained?.resolve();
    this.#drained = undefined;
  }

  /** The source failed: close the message with what was written, and report the source's error. */
  async #sourceFailed(cause: unknown): Promise<StreamSourceError> {
    const error = new StreamSourceError(cause);
    this.emit('error', error);
    this.#error = error;
    this.#reason = 'error';
    if (this.#onSourceError !== '') this.write(this.#onSourceError);
    await this.#close();
    return error;
  }

  /** The cloud's idle limit is near and nothing was sent: close the open message now. */
  #seal(): void {
    if (this.#messageId === undefined || this.#phase !== 'streaming') return;
    this.#enter('sealing');
    this.#consider();
  }

  #onIdle(): void {
    if (this.closed) return;
    // A writer held back by backpressure is not idle: it waits for this session.
    if (this.#drained) this.#idle.set(this.#now() + this.#idleTimeoutMs);
    else void this.abort('idle');
  }

  #complete(): void {
    if (this.#phase === 'finished') return;
    this.#enter('finished');
    this.#typing?.stop();
    clearTimeout(this.#waitTimer);
    clearTimeout(this.#holdTimer);
    this.#idle.clear();
    this.#keepAlive.clear();
    this.#detachSignal?.();
    this.#scheduler.unregister(this);
    this.#releaseDrain();
    const result: StreamFinish = {
      reason: this.#reason,
      text: this.text,
      calls: this.#calls,
      messages: this.#messages,
      fallback: this.#plainMessages > 0,
      undelivered: this.#pending.all(),
    };
    if (this.#error) result.error = this.#error;
    if (this.#reason === 'aborted') result.abortReason = this.#abortReason;
    this.emit('finish', result);
    this.#resolveDone(result);
  }
}
