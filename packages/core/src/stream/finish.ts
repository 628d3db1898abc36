import { type ImbotError, StoppedError } from '../errors.js';
import type { EndReason } from './transport.js';

/** Why a session finished: its text was all delivered, it was aborted, or it failed. */
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

/** The events of a `StreamSession`. */
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
 * What a session's `finish` will report, gathered as it goes: why it ends, the failure that ended
 * it, its counts and the text it delivered (unless `keepText` is false); and the `done` promise it
 * settles. Only the session writes it.
 */
export class FinishTally {
  /** Resolves with the report once the session has finished. */
  readonly done: Promise<StreamFinish>;
  #resolve!: (result: StreamFinish) => void;
  readonly #keepText: boolean;
  /** Text delivered, in order: with what is pending, everything written. */
  #taken: string[] = [];
  reason: FinishReason = 'completed';
  abortReason: unknown;
  error: ImbotError | undefined;
  calls = 0;
  messages = 0;
  /** Messages sent plain after streaming failed. */
  plainMessages = 0;

  constructor(keepText: boolean) {
    this.#keepText = keepText;
    this.done = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  /** `text` was delivered: it is kept for the report, unless `keepText` is false. */
  delivered(text: string): void {
    if (this.#keepText) this.#taken.push(text);
  }

  /** Everything written: what was delivered (if kept), then what is still `pending`. */
  written(pending: string): string {
    if (this.#taken.length > 1) this.#taken = [this.#taken.join('')];
    return (this.#taken[0] ?? '') + pending;
  }

  /** A plain message went out after streaming failed. */
  plainSent(): void {
    this.plainMessages++;
    this.messages++;
  }

  /** `abort()` was called: the session ends as aborted, unless it had failed already. */
  aborted(reason: unknown): void {
    if (this.reason !== 'error') this.reason = 'aborted';
    this.abortReason = reason;
  }

  /** The failure that ends the session. */
  failed(error: ImbotError): void {
    this.error = error;
    this.reason = 'error';
  }

  /** Why the answer ends, as the closing call of its last message tells the cloud. */
  endReason(): EndReason {
    if (this.reason !== 'aborted') return this.reason;
    return this.abortReason instanceof StoppedError ? 'stopped' : 'interrupted';
  }

  /** The report, `pending` being what could not be delivered; `done` resolves with it. */
  finish(pending: string): StreamFinish {
    const result: StreamFinish = {
      reason: this.reason,
      text: this.written(pending),
      calls: this.calls,
      messages: this.messages,
      fallback: this.plainMessages > 0,
      undelivered: pending,
    };
    if (this.error) result.error = this.error;
    if (this.reason === 'aborted') result.abortReason = this.abortReason;
    this.#resolve(result);
    return result;
  }
}
