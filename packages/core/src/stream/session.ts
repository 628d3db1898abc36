import { EventEmitter } from 'eventemitter3';
import { ImbotError, isTransient, StreamClosedError, ValidationError } from '../errors.js';
import type { RateLimitPermit } from '../limits/rate-limiter.js';
import { utf8Bytes } from '../validation.js';
import { cleanPrefix, codePointPrefix, graphemePrefix, lastGraphemeStart } from './chunking.js';
import type { Schedulable, StreamScheduler } from './scheduler.js';
import { readText, type TextSource } from './source.js';
import type { StreamTransport } from './transport.js';

export interface StreamSessionOptions {
  /** Least time between two calls of this session, unless `maxChunkBytes` of text is waiting. Default 200 ms. */
  minIntervalMs?: number;
  /** Most UTF-8 bytes one call carries; this much waiting text is sent without waiting for `minIntervalMs`. Default 4096. */
  maxChunkBytes?: number;
  /** A session with no `write()` for this long is finished, so no message grows forever. Default 10 000 ms. */
  idleTimeoutMs?: number;
  /** Aborts the session when it fires. */
  signal?: AbortSignal;
  /** Monotonic clock in milliseconds; injectable for tests. */
  now?: () => number;
}

export type FinishReason = 'completed' | 'aborted' | 'error';

/** How a session ended. Exactly one `finish` fires per session, carrying this. */
export interface StreamFinish {
  reason: FinishReason;
  /** Everything written to the session. */
  text: string;
  /** REST calls made: streamed chunks and plain fallback messages. */
  calls: number;
  /** Messages the user received (a long text continues in a new message; a fallback adds more). */
  messages: number;
  /** Whether part of the text went out as a plain message after streaming failed. */
  fallback: boolean;
  /** Text that could not be delivered at all (empty unless the fallback failed too). */
  undelivered: string;
  /** The failure that ended the stream, for `reason: 'error'`. */
  error?: ImbotError;
  /** What `abort()` was given, for `reason: 'aborted'` (`'idle'` after `idleTimeoutMs`). */
  abortReason?: unknown;
}

export interface StreamSessionEvents {
  /** A message was opened: its id is known. */
  open: (info: { messageId: string; message: number }) => void;
  /** A chunk reached the cloud; `latencyMs` is how long its oldest text waited since `write()`. */
  flush: (info: { chunk: string; bytes: number; latencyMs: number; final: boolean }) => void;
  finish: (result: StreamFinish) => void;
  error: (error: ImbotError) => void;
}

interface Plan {
  chunk: string;
  final: boolean;
}

/** The closing call after a failure is tried this often while its failures are transient. */
const CLOSE_ATTEMPTS = 5;

/** Room kept free in a message so that the call that closes it always has text to carry. */
const RESERVE_BYTES = 256;

function cut(text: string, maxBytes: number): string {
  return graphemePrefix(text, maxBytes) || codePointPrefix(text, maxBytes);
}

function asImbotError(error: unknown): ImbotError {
  return error instanceof ImbotError
    ? error
    : new ImbotError('STREAM_FAILED', `streaming failed: ${(error as Error)?.message ?? String(error)}`);
}

/**
 * Text produced bit by bit (an LLM's tokens) delivered as one message that grows on the user's
 * screen. `write()` never waits: text collects in one pending buffer that goes out as a single chunk
 * when the session's turn comes (one call in flight at a time), so under rate pressure a session
 * sends bigger chunks, not more calls. `end()` always makes the closing call, and exactly one
 * `finish` event reports how it went. When streaming fails for good, the message is closed and the
 * text not yet shown is sent as a plain message.
 *
 * @example
 * const session = im.openStream({ from: '@RBT#helper', to: 'user01' });
 * const result = await session.pipeFrom(streamText({ model, prompt }).textStream);
 */
export class StreamSession extends EventEmitter<StreamSessionEvents> implements Schedulable {
  readonly rateKey: string;
  readonly #transport: StreamTransport;
  readonly #scheduler: StreamScheduler;
  readonly #now: () => number;
  readonly #minIntervalMs: number;
  readonly #maxChunkBytes: number;
  readonly #idleTimeoutMs: number;
  readonly #reserveBytes: number;

  #text = '';
  /** Written and not yet delivered; starts with the text of the call in flight. */
  #pending = '';
  #pendingSince: number | undefined;
  #inFlight = false;
  #queued = false;
  #ending = false;
  #finished = false;
  #reason: FinishReason = 'completed';
  #abortReason: unknown;
  #error: ImbotError | undefined;
  /** Streaming failed for good: text still collects, and goes out as plain messages at the end. */
  #degraded = false;
  /** After a failure: one closing call on the open message, carrying the failed chunk. */
  #recovering = false;
  #closeAttempts = 0;
  #fallingBack = false;
  #fallback = false;
  #messageOpen = false;
  #messageBytes = 0;
  #messages = 0;
  #calls = 0;
  #lastCallStart = Number.NEGATIVE_INFINITY;
  #lastCallEnd = Number.NEGATIVE_INFINITY;
  #waitTimer: NodeJS.Timeout | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  readonly #done: Promise<StreamFinish>;
  #resolveDone!: (result: StreamFinish) => void;
  #writable: WritableStream<string> | undefined;

  constructor(transport: StreamTransport, scheduler: StreamScheduler, options: StreamSessionOptions = {}) {
    super();
    this.#transport = transport;
    this.#scheduler = scheduler;
    this.rateKey = transport.rateKey;
    this.#now = options.now ?? (() => performance.now());
    this.#minIntervalMs = options.minIntervalMs ?? 200;
    this.#maxChunkBytes = Math.min(options.maxChunkBytes ?? 4096, transport.maxMessageBytes);
    this.#idleTimeoutMs = options.idleTimeoutMs ?? 10_000;
    this.#reserveBytes = Math.min(RESERVE_BYTES, Math.floor(transport.maxMessageBytes / 4));
    this.#done = new Promise((resolve) => {
      this.#resolveDone = resolve;
    });
    scheduler.register(this);
    this.#restartIdle();
    const signal = options.signal;
    if (signal?.aborted) void this.abort(signal.reason);
    else signal?.addEventListener('abort', () => void this.abort(signal.reason), { once: true });
  }

  /** Everything written so far. */
  get text(): string {
    return this.#text;
  }

  /** True once `end()` or `abort()` was called: `write()` throws from then on. */
  get closed(): boolean {
    return this.#ending || this.#finished;
  }

  /** Resolves with the outcome once the session has finished. */
  get done(): Promise<StreamFinish> {
    return this.#done;
  }

  /** Adds text to the message. Never waits; throws `StreamClosedError` after `end()` or `abort()`. */
  write(text: string): void {
    if (typeof text !== 'string') throw new ValidationError('text', 'write(text): text must be a string');
    if (this.closed) {
      throw new StreamClosedError('write() after the stream session ended', { cause: this.#error });
    }
    if (text === '') return;
    if (this.#pending === '') this.#pendingSince = this.#now();
    this.#pending += text;
    this.#text += text;
    this.#restartIdle();
    this.#consider();
  }

  /** Writes `text` if given, then closes the message; resolves once the closing call is delivered. */
  end(text?: string): Promise<StreamFinish> {
    if (this.closed) return this.#done;
    if (text) this.write(text);
    this.#ending = true;
    this.#consider();
    return this.#done;
  }

  /**
   * Stops taking text and closes the message with what was written (the closing call is still made,
   * so the user's message does not hang); `finish` reports `reason: 'aborted'`.
   */
  abort(reason?: unknown): Promise<StreamFinish> {
    if (this.closed) return this.#done;
    this.#ending = true;
    if (this.#reason !== 'error') this.#reason = 'aborted';
    this.#abortReason = reason;
    this.#consider();
    return this.#done;
  }

  /**
   * Writes everything `source` yields, then ends the session; aborts it if `source` throws. Takes an
   * `AsyncIterable<string>` or a `ReadableStream<string>` (an AI SDK `textStream` is both).
   */
  async pipeFrom(source: TextSource): Promise<StreamFinish> {
    try {
      for await (const text of readText(source)) {
        if (this.closed) break;
        this.write(text);
      }
      return await this.end();
    } catch (error) {
      return this.abort(error);
    }
  }

  /** The session as a `WritableStream<string>`: `source.pipeTo(session.writable)`. */
  get writable(): WritableStream<string> {
    this.#writable ??= new WritableStream<string>({
      write: (text) => this.write(text),
      close: async () => {
        await this.end();
      },
      abort: async (reason) => {
        await this.abort(reason);
      },
    });
    return this.#writable;
  }

  /** @internal The scheduler's turn: make exactly one call with `permit`. */
  take(permit: RateLimitPermit): void {
    this.#queued = false;
    const plan = this.#finished ? undefined : this.#plan();
    if (!plan) {
      permit.release();
      this.#consider();
      return;
    }
    this.#inFlight = true;
    this.#calls++;
    this.#lastCallStart = this.#now();
    const since = this.#pendingSince ?? this.#lastCallStart;
    this.#transport.send(plan.chunk, plan.final, permit).then(
      ({ messageId }) => this.#delivered(plan, messageId, since),
      (error: unknown) => this.#failed(error),
    );
  }

  /** @internal The rate limiter refused to grant a call: the same as a failed call. */
  refused(error: unknown): void {
    this.#queued = false;
    this.#failed(error);
  }

  /** @internal The client is closing: finish now, still making the closing call. */
  shutdown(): Promise<StreamFinish> {
    return this.abort('client closed');
  }

  /** Decides whether to queue for a call now, later (a timer), or to finish. */
  #consider(): void {
    if (this.#finished || this.#inFlight || this.#queued || this.#fallingBack) return;
    if (this.#degraded && !this.#recovering) {
      if (this.#ending) void this.#sendFallback();
      return;
    }
    if (!this.#hasWork()) {
      if (this.#ending) this.#complete();
      return;
    }
    clearTimeout(this.#waitTimer);
    const now = this.#now();
    let readyAt = this.#lastCallStart + this.#transport.minCallIntervalMs;
    const hurry = this.#ending || this.#pending.length >= this.#maxChunkBytes;
    if (!hurry) readyAt = Math.max(readyAt, this.#lastCallEnd + this.#minIntervalMs);
    if (now >= readyAt) {
      this.#queued = true;
      this.#scheduler.ready(this);
    } else {
      this.#waitTimer = setTimeout(() => this.#consider(), Math.ceil(readyAt - now));
    }
  }

  #hasWork(): boolean {
    if (this.#recovering) return true;
    if (this.#ending) return this.#pending !== '' || (this.#messageOpen && this.#transport.emptyFinalChunk);
    if (this.#pending === '') return false;
    return this.#transport.emptyFinalChunk || lastGraphemeStart(this.#pending) > 0;
  }

  /**
   * The next call: which text and whether it closes the message. While the session goes on, the
   * last grapheme is held back (when the cloud needs text on the closing call) and a reserve is
   * kept in the message; text that would outgrow the message closes it at a clean boundary and
   * the rest opens the next one.
   */
  #plan(): Plan | undefined {
    const closing = this.#ending || this.#recovering;
    const text =
      closing || this.#transport.emptyFinalChunk
        ? this.#pending
        : this.#pending.slice(0, lastGraphemeStart(this.#pending));
    if (text === '') {
      return closing && this.#messageOpen && this.#transport.emptyFinalChunk
        ? { chunk: '', final: true }
        : undefined;
    }
    const room = this.#transport.maxMessageBytes - this.#messageBytes;
    const bytes = utf8Bytes(text);
    if (closing && bytes <= Math.min(room, this.#maxChunkBytes)) return { chunk: text, final: true };
    if (this.#recovering)
      return { chunk: cleanPrefix(text, Math.min(room, this.#maxChunkBytes)), final: true };
    const fitsAll = bytes <= room - (closing ? 0 : this.#reserveBytes);
    if (fitsAll || room - this.#reserveBytes >= this.#maxChunkBytes) {
      return { chunk: cut(text, this.#maxChunkBytes), final: false };
    }
    return { chunk: cleanPrefix(text, Math.min(room, this.#maxChunkBytes)), final: true };
  }

  #delivered(plan: Plan, messageId: string, since: number): void {
    this.#inFlight = false;
    this.#lastCallEnd = this.#now();
    if (!this.#messageOpen) {
      this.#messageOpen = true;
      this.#messages++;
      this.emit('open', { messageId, message: this.#messages });
    }
    this.#pending = this.#pending.slice(plan.chunk.length);
    if (this.#pending === '') this.#pendingSince = undefined;
    const bytes = utf8Bytes(plan.chunk);
    this.#messageBytes += bytes;
    this.emit('flush', { chunk: plan.chunk, bytes, latencyMs: this.#lastCallEnd - since, final: plan.final });
    if (plan.final) {
      this.#transport.next();
      this.#messageOpen = false;
      this.#messageBytes = 0;
    }
    this.#recovering = false;
    this.#consider();
  }

  /**
   * A call failed for good (the client already retried what was safe to retry), so streaming stops.
   * The open message is closed by a call that carries the failed chunk: text is never lost, and if
   * the failed call was applied after all, that one chunk shows twice. That call is tried up to five
   * times while its failures are transient, so the user is not left with a message that never ends.
   * Text keeps being accepted; at the end, what the stream did not deliver goes out as plain messages.
   */
  #failed(cause: unknown): void {
    this.#inFlight = false;
    this.#lastCallEnd = this.#now();
    const error = asImbotError(cause);
    this.emit('error', error);
    if (!this.#degraded) {
      this.#degraded = true;
      this.#error = error;
      this.#reason = 'error';
      this.#recovering = this.#messageOpen && (this.#pending !== '' || this.#transport.emptyFinalChunk);
    } else if (!this.#recovering || !isTransient(error) || this.#closeAttempts >= CLOSE_ATTEMPTS) {
      this.#recovering = false;
      this.#messageOpen = false;
    }
    if (this.#recovering) this.#closeAttempts++;
    this.#consider();
  }

  async #sendFallback(): Promise<void> {
    this.#fallingBack = true;
    while (this.#pending !== '') {
      const piece = cleanPrefix(this.#pending, this.#transport.maxPlainBytes);
      this.#calls++;
      try {
        await this.#transport.sendPlain(piece);
      } catch (error) {
        this.emit('error', asImbotError(error));
        break;
      }
      this.#fallback = true;
      this.#messages++;
      this.#pending = this.#pending.slice(piece.length);
    }
    this.#complete();
  }

  #complete(): void {
    if (this.#finished) return;
    this.#finished = true;
    clearTimeout(this.#waitTimer);
    clearTimeout(this.#idleTimer);
    this.#scheduler.unregister(this);
    const result: StreamFinish = {
      reason: this.#reason,
      text: this.#text,
      calls: this.#calls,
      messages: this.#messages,
      fallback: this.#fallback,
      undelivered: this.#pending,
    };
    if (this.#error) result.error = this.#error;
    if (this.#reason === 'aborted') result.abortReason = this.#abortReason;
    this.emit('finish', result);
    this.#resolveDone(result);
  }

  #restartIdle(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => void this.abort('idle'), this.#idleTimeoutMs);
  }
}
