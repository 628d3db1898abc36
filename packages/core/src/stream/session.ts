import { EventEmitter } from 'eventemitter3';
import { ImbotError, StreamClosedError, StreamSourceError, ValidationError } from '../errors.js';
import type { TurnPermit } from '../limits/turn-permit.js';
import { Backpressure } from './backpressure.js';
import { asImbotError, type CallOutcome, Delivery } from './delivery.js';
import { FinishTally, type StreamFinish, type StreamSessionEvents } from './finish.js';
import { MarkdownHoldback } from './holdback.js';
import { IdleWatch } from './idle.js';
import { CallPacer } from './pacing.js';
import { statusOf } from './parts.js';
import { PendingText } from './pending.js';
import { type PipeHooks, pipeInto, writableInto } from './piping.js';
import { type PlanMode, type PlannedCall, planCall, planPlain } from './plan.js';
import type { CallKind, Schedulable, StreamScheduler } from './scheduler.js';
import {
  followSignal,
  type SessionSettings,
  type StreamSessionOptions,
  sessionSettings,
} from './session-options.js';
import type { AnswerSource } from './source.js';
import type { StreamTransport } from './transport.js';

export type { FinishReason, StreamFinish, StreamSessionEvents } from './finish.js';
export type { StreamSessionOptions } from './session-options.js';

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
  readonly rateFields: Readonly<Record<string, unknown>> | undefined;
  readonly idleLimitMs: number;
  readonly #transport: StreamTransport;
  readonly #scheduler: StreamScheduler;
  readonly #settings: SessionSettings;
  /** Settles each call, reading back one whose answer was lost. */
  readonly #delivery: Delivery;

  #phase: Phase = 'streaming';
  readonly #pending = new PendingText();
  readonly #tally: FinishTally;
  /** A call (streamed or plain) is on its way: the session makes one at a time. */
  #inFlight = false;
  /** The line the session waits in for its next call, if it does. */
  #queued: CallKind | undefined;
  /** The id of the open message, while one is open. */
  #messageId: string | undefined;
  #messageBytes = 0;
  readonly #pacer: CallPacer;
  readonly #idle: IdleWatch;
  readonly #backpressure = new Backpressure();
  #writable: WritableStream<string> | undefined;
  readonly #detachSignal: () => void;
  readonly #holdback: MarkdownHoldback | undefined;

  constructor(transport: StreamTransport, scheduler: StreamScheduler, options: StreamSessionOptions = {}) {
    super();
    const s = sessionSettings(options, transport, scheduler.now);
    this.#settings = s;
    this.#transport = transport;
    this.#scheduler = scheduler;
    this.#delivery = new Delivery(transport);
    this.rateKey = transport.rateKey;
    this.rateFields = transport.rateFields;
    this.idleLimitMs = transport.idleLimitMs;
    this.#tally = new FinishTally(s.keepText);
    this.#pacer = new CallPacer(s.now, transport, s.minIntervalMs, {
      ready: () => this.#consider(),
      seal: () => this.#seal(),
    });
    this.#idle = new IdleWatch(
      s,
      () => this.#backpressure.holding,
      () => this.abort('idle'),
    );
    scheduler.register(this);
    if (s.markdown) this.#holdback = new MarkdownHoldback(s.markdown, s.now, () => this.#consider());
    s.typing?.start();
    this.#detachSignal = followSignal(s.signal, (reason) => void this.abort(reason));
  }

  /** Everything written so far (what is still pending only, with `keepText: false`). */
  get text(): string {
    return this.#tally.written(this.#pending.all());
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
    return this.#tally.done;
  }

  /**
   * Adds text to the message. Never waits and never refuses text; returns false once
   * `highWaterMark` bytes wait to be sent (write again after `'drain'`), as a Node stream does.
   * Throws `StreamClosedError` after `end()` or `abort()`.
   */
  write(text: string): boolean {
    if (typeof text !== 'string') throw new ValidationError('text', 'write(text): text must be a string');
    if (this.closed) {
      throw new StreamClosedError('write() after the stream session ended', { cause: this.#tally.error });
    }
    if (text !== '') {
      this.#settings.typing?.stop();
      this.#pending.push(text, this.#settings.now());
      this.#idle.wrote();
      this.#consider();
    }
    if (this.#pending.bytes < this.#settings.highWaterMark) return true;
    this.#backpressure.hold();
    return false;
  }

  /** Writes `text` if given, then closes the message; resolves once the closing call is delivered. */
  end(text?: string): Promise<StreamFinish> {
    if (this.closed) return this.#tally.done;
    if (text) this.write(text);
    return this.#close();
  }

  /**
   * Stops taking text and closes the message with what was written (the closing call is still made,
   * so the user's message does not hang); `finish` reports `reason: 'aborted'`. A read-back waiting
   * for a slow cloud is made at once, so the session finishes promptly.
   */
  abort(reason?: unknown): Promise<StreamFinish> {
    if (this.closed) return this.#tally.done;
    this.#tally.aborted(reason);
    this.#delivery.hurry();
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
  pipeFrom(source: AnswerSource): Promise<StreamFinish> {
    return pipeInto(this, this.#hooks(), source);
  }

  /**
   * The session as a `WritableStream<string>`: `source.pipeTo(session.writable)`. Its queue and
   * its writes wait for `'drain'`, so `pipeTo` slows the source to what the session delivers. When
   * the source fails, `pipeTo` aborts the stream, which finishes the session as `pipeFrom()` would.
   */
  get writable(): WritableStream<string> {
    this.#writable ??= writableInto(this, this.#hooks(), this.#settings.highWaterMark);
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
    this.#tally.calls++;
    const start = this.#pacer.started();
    const since = this.#pending.oldestAt ?? start;
    // The call that closes the answer's last message says why it ends.
    const last = plan.final && this.#pending.ended && plan.units === this.#pending.units;
    const end = last ? this.#tally.endReason() : undefined;
    this.#delivery
      .send(plan.chunk, plan.final, end, permit, this.#phase === 'recovering')
      .then((outcome) => this.#settled(outcome, plan, since));
    return true;
  }

  /** @internal The rate limiter refused to grant a call: the same as a failed call. */
  refused(error: unknown): void {
    this.#queued = undefined;
    const outcome = this.#delivery.failed(error, this.#phase === 'recovering');
    this.#failed(outcome.error, outcome.again);
  }

  /** @internal The client is closing: finish now, still making the closing call. */
  shutdown(): Promise<StreamFinish> {
    return this.abort('client closed');
  }

  /** What piping a source into the session may do besides write and end: wait for drain, or fail. */
  #hooks(): PipeHooks {
    return {
      drain: () => this.#backpressure.wait(),
      progress: (part, name) =>
        this.#settings.typing?.status(statusOf(this.#settings.statusText, part, name)),
      sourceFailed: (cause) => this.#sourceFailed(cause),
    };
  }

  #enter(phase: Phase): void {
    if (phase === this.#phase) return;
    if (!TRANSITIONS[this.#phase].includes(phase)) {
      throw new ImbotError('STREAM_STATE', `stream session cannot go from ${this.#phase} to ${phase}`);
    }
    this.#phase = phase;
  }

  #close(): Promise<StreamFinish> {
    this.#settings.typing?.stop();
    this.#pending.end();
    if (this.#phase === 'streaming' || this.#phase === 'sealing') this.#enter('closing');
    this.#consider();
    return this.#tally.done;
  }

  #mode(): PlanMode {
    if (this.#phase === 'recovering') return 'recovering';
    return this.#phase === 'closing' || this.#phase === 'sealing' ? 'closing' : 'stream';
  }

  #plan(): PlannedCall | undefined {
    const window = this.#pending.head(this.#settings.windowUnits);
    const mode = this.#mode();
    const plan = planCall({
      mode,
      window,
      whole: window.length === this.#pending.units,
      pendingBytes: this.#pending.bytes,
      messageOpen: this.#messageId !== undefined,
      messageBytes: this.#messageBytes,
      limits: this.#settings.limits,
    });
    if (!plan || !this.#holdback || plan.final || mode !== 'stream') return plan;
    return this.#holdback.hold(plan, this.#pending.oldestAt ?? this.#settings.now());
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
    const hurry = urgent || this.#pending.bytes >= this.#settings.limits.maxChunkBytes;
    if (this.#pacer.waiting) {
      if (!hurry) return;
      this.#pacer.cancel();
    }
    const plan = this.#plan();
    if (!plan) {
      if (this.#phase === 'closing') this.#complete();
      return;
    }
    if (!this.#pacer.ready(hurry)) return;
    const open = this.#messageId !== undefined;
    const kind: CallKind = plan.final || this.#phase === 'sealing' ? 'close' : open ? 'continue' : 'open';
    this.#queued = kind;
    this.#scheduler.ready(this, kind, {
      since: this.#pending.oldestAt ?? this.#settings.now(),
      ...(open ? { deadline: this.#pacer.deadline } : {}),
    });
  }

  /** A call is settled: delivered, to be sent again (its chunk joins the next call), or failed. */
  #settled(outcome: CallOutcome, plan: PlannedCall, since: number): void {
    if (outcome.kind === 'delivered') this.#delivered(plan, outcome.messageId, since);
    else if (outcome.kind === 'failed') this.#failed(outcome.error, outcome.again);
    else {
      this.#inFlight = false;
      this.#pacer.ended();
      this.#consider();
    }
  }

  #delivered(plan: PlannedCall, messageId: string, since: number): void {
    this.#inFlight = false;
    const end = this.#pacer.ended();
    if (this.#messageId === undefined) {
      this.#tally.messages++;
      this.emit('open', { messageId, message: this.#tally.messages });
    }
    this.#messageId = messageId;
    this.#takeText(plan.chunk, plan.units, plan.bytes);
    this.#messageBytes += plan.bytes;
    if (this.#phase === 'sealing') this.#enter('streaming');
    const latencyMs = end - since;
    this.#scheduler.delivered(latencyMs);
    this.emit('flush', { chunk: plan.chunk, bytes: plan.bytes, latencyMs, final: plan.final });
    if (plan.final) this.#messageEnded();
    else this.#pacer.keepOpen();
    if (this.#phase === 'recovering') this.#enter('plain');
    this.#consider();
  }

  /** The open message is closed, or given up: the next call opens a new one. */
  #messageEnded(): void {
    this.#transport.next();
    this.#messageId = undefined;
    this.#messageBytes = 0;
    this.#pacer.closed();
    this.#scheduler.messageClosed(this);
  }

  /**
   * A call failed for good (the client retried what was safe to retry, and `Delivery` read back what
   * it could), so streaming stops. The open message is closed by a call that carries the failed chunk:
   * text is never lost, and if the failed call was applied after all, that one chunk shows twice.
   * `again`: that closing call failed but is worth another try; if not, the message is given up.
   * Text keeps being accepted and goes out as plain messages.
   */
  #failed(error: ImbotError, again: boolean): void {
    this.#inFlight = false;
    this.#pacer.ended();
    this.emit('error', error);
    if (this.#phase === 'recovering') {
      if (!again) {
        this.#messageEnded();
        this.#enter('plain');
      }
    } else if (this.#phase !== 'finished' && this.#phase !== 'plain') {
      this.#tally.failed(error);
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
    const piece = planPlain(this.#pending, this.#transport.maxPlainBytes, this.#pending.ended);
    if (!piece) {
      if (this.#pending.empty && this.#pending.ended) this.#complete();
      return;
    }
    this.#inFlight = true;
    this.#tally.calls++;
    this.#transport.sendPlain(piece.text).then(
      () => {
        this.#inFlight = false;
        this.#tally.plainSent();
        this.#takeText(piece.text, piece.units, piece.bytes);
        this.#consider();
      },
      (cause: unknown) => {
        this.#inFlight = false;
        const error = asImbotError(cause);
        this.emit('error', error);
        this.#tally.error ??= error;
        this.#complete();
      },
    );
  }

  /** Moves delivered text out of the pending buffer, and says `'drain'` once it is low again. */
  #takeText(text: string, units: number, bytes: number): void {
    if (units === 0) return;
    this.#holdback?.delivered(text);
    this.#pending.take(units, bytes);
    this.#tally.delivered(text);
    if (this.#pending.bytes < this.#settings.highWaterMark && this.#backpressure.release())
      this.emit('drain');
  }

  /** The source failed: close the message with what was written, and report the source's error. */
  async #sourceFailed(cause: unknown): Promise<StreamSourceError> {
    const error = new StreamSourceError(cause);
    this.emit('error', error);
    this.#tally.failed(error);
    if (this.#settings.onSourceError !== '') this.write(this.#settings.onSourceError);
    await this.#close();
    return error;
  }

  /** The cloud's idle limit is near and nothing was sent: close the open message now. */
  #seal(): void {
    if (this.#messageId === undefined || this.#phase !== 'streaming') return;
    this.#enter('sealing');
    this.#consider();
  }

  #complete(): void {
    if (this.#phase === 'finished') return;
    this.#enter('finished');
    this.#settings.typing?.stop();
    this.#pacer.stop();
    this.#holdback?.stop();
    this.#idle.stop();
    this.#detachSignal();
    this.#scheduler.unregister(this);
    this.#backpressure.release();
    this.emit('finish', this.#tally.finish(this.#pending.all()));
  }
}
