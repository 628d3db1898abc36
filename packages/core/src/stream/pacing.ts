import { DueTimer } from './due-timer.js';

/**
 * An open message with nothing to send closes itself this far into the cloud's idle limit, so the
 * cloud never ends it as abandoned; the next text opens a new message.
 */
const SEAL_AFTER = 0.8;

/** What a session wants woken: a call it may make now, and an open message that must close. */
export interface PacerWake {
  /** A call the session could not make yet may start now. */
  ready(): void;
  /** The open message has gone quiet for `SEAL_AFTER` of the cloud's idle limit. */
  seal(): void;
}

/**
 * When a session's calls go. The next call starts no sooner than the transport's least interval after
 * the last one started (a per-stream limit of the cloud) and, unless the session hurries,
 * `minIntervalMs` after the last one ended; a timer wakes the session when it may. An open message
 * that has had no call for most of the cloud's idle limit is woken to be sealed.
 */
export class CallPacer {
  readonly #now: () => number;
  readonly #stream: { readonly minCallIntervalMs: number; readonly idleLimitMs: number };
  readonly #minIntervalMs: number;
  readonly #wake: PacerWake;
  readonly #keepAlive: DueTimer;
  #lastStart = Number.NEGATIVE_INFINITY;
  #lastEnd = Number.NEGATIVE_INFINITY;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    now: () => number,
    stream: { readonly minCallIntervalMs: number; readonly idleLimitMs: number },
    minIntervalMs: number,
    wake: PacerWake,
  ) {
    this.#now = now;
    this.#stream = stream;
    this.#minIntervalMs = minIntervalMs;
    this.#wake = wake;
    this.#keepAlive = new DueTimer(now, () => wake.seal());
  }

  /** When the cloud would end the open message for want of a call. */
  get deadline(): number {
    return this.#lastStart + this.#stream.idleLimitMs;
  }

  /** Whether the timer waits to wake the session. */
  get waiting(): boolean {
    return this.#timer !== undefined;
  }

  /** A call starts now; returns the time. */
  started(): number {
    this.#lastStart = this.#now();
    return this.#lastStart;
  }

  /** A call ended now (answered, failed or settled); returns the time. */
  ended(): number {
    this.#lastEnd = this.#now();
    return this.#lastEnd;
  }

  /** A call left the message open: it is sealed if no other call comes in time. */
  keepOpen(): void {
    this.#keepAlive.set(this.#lastStart + this.#stream.idleLimitMs * SEAL_AFTER);
  }

  /** The message closed: nothing to seal. */
  closed(): void {
    this.#keepAlive.clear();
  }

  /** Whether a call may start now; if not, the timer wakes the session when it may. */
  ready(hurry: boolean): boolean {
    const now = this.#now();
    let readyAt = this.#lastStart + this.#stream.minCallIntervalMs;
    if (!hurry) readyAt = Math.max(readyAt, this.#lastEnd + this.#minIntervalMs);
    if (now >= readyAt) return true;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#wake.ready();
      },
      Math.ceil(readyAt - now),
    );
    return false;
  }

  /** Stops the wait for the next call (the session hurries). */
  cancel(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Stops every timer: the session finished. */
  stop(): void {
    this.cancel();
    this.#keepAlive.clear();
  }
}
