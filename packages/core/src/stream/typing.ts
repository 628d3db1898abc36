import { isTransient } from '../errors.js';
import type { TurnPermit } from '../limits/turn-permit.js';

/** One cloud's "the bot is typing" signal to one user: what the indicator needs to send it. */
export interface TypingSignal {
  /** The API whose budget each signal takes (Tencent `openim/sendmsg`, RongCloud's status publish). */
  readonly rateKey: string;
  /** How often the signal is renewed while the silence lasts: inside the client's display time. */
  readonly renewMs: number;
  /**
   * Sends the signal once, naming what runs when the cloud's signal can carry a word; `signal`
   * aborts when the indicator stops, so a retry never sends it after the answer's text. `permit`,
   * when given, is the budget permit taken for this signal: its call spends it.
   */
  send(statusText: string | undefined, signal: AbortSignal, permit?: TurnPermit): Promise<unknown>;
}

/** What the indicator asks of the client's budget owner (its `StreamScheduler`). */
export interface StatusBudget {
  /** Clock in milliseconds. */
  readonly now: () => number;
  /** Makes a best-effort call of `key` if it costs text nothing, handing it its permit; false when dropped. */
  status(key: string, send: (permit?: TurnPermit) => unknown): boolean;
}

/**
 * `idle`: not started. `typing`: the signal goes out and is renewed. `stopped`: the answer showed
 * text or ended; nothing is sent again.
 */
export type TypingState = 'idle' | 'typing' | 'stopped';

/** A dropped signal (the budget was busy with text) is tried again this much later. */
const RETRY_DROPPED_MS = 1000;
/** A new status word goes out at once, but no more often than this. */
const MIN_STATUS_GAP_MS = 1000;

/**
 * Tells a user the bot is typing while an answer has shown no text yet (the model thinks, a tool
 * runs): the cloud's own signal, renewed within the client's display time until `stop()`, which the
 * first text of the answer (or its end) calls. Each signal is a best-effort call in the budget's
 * lowest class: it is made only when no text waits for the same budget, and dropped otherwise, so
 * typing never delays text. A signal the cloud refuses for good stops the indicator.
 */
export class TypingIndicator {
  readonly #signal: TypingSignal;
  readonly #budget: StatusBudget;
  #state: TypingState = 'idle';
  #statusText: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly #stopped = new AbortController();
  #lastSentAt = Number.NEGATIVE_INFINITY;
  #stopAt = Number.POSITIVE_INFINITY;
  #sent = 0;
  #dropped = 0;

  constructor(signal: TypingSignal, budget: StatusBudget) {
    this.#signal = signal;
    this.#budget = budget;
  }

  get state(): TypingState {
    return this.#state;
  }

  /** Signals made, and signals dropped because text needed the budget. */
  get counts(): { sent: number; dropped: number } {
    return { sent: this.#sent, dropped: this.#dropped };
  }

  /**
   * Starts signalling (once; a stopped indicator stays stopped). `stopAfterMs` bounds a signal that
   * nothing may ever stop (one started outside an answer): it stops by itself that much later.
   */
  start(options: { stopAfterMs?: number } = {}): void {
    if (this.#state !== 'idle') return;
    this.#state = 'typing';
    if (options.stopAfterMs !== undefined) this.#stopAt = this.#budget.now() + options.stopAfterMs;
    this.#send();
  }

  /**
   * Keeps the signal alive and names what runs (a tool's name), where the cloud's signal carries a
   * word. A new word goes out at once (at most once a second); the same word waits for the renewal.
   */
  status(statusText?: string): void {
    if (this.#state === 'stopped') return;
    const changed = statusText !== undefined && statusText !== this.#statusText;
    if (statusText !== undefined) this.#statusText = statusText;
    if (this.#state === 'idle') {
      this.start();
      return;
    }
    if (!changed) return;
    const wait = this.#lastSentAt + MIN_STATUS_GAP_MS - this.#budget.now();
    if (wait <= 0) this.#send();
    else this.#schedule(wait);
  }

  /** Stops for good: nothing is sent from now on. */
  stop(): void {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#stopped.abort();
  }

  #send(): void {
    if (this.#state !== 'typing') return;
    if (this.#budget.now() >= this.#stopAt) {
      this.stop();
      return;
    }
    const made = this.#budget.status(this.#signal.rateKey, (permit) =>
      this.#signal.send(this.#statusText, this.#stopped.signal, permit).catch((error: unknown) => {
        if (!this.#stopped.signal.aborted && !isTransient(error)) this.stop();
      }),
    );
    if (made) {
      this.#sent++;
      this.#lastSentAt = this.#budget.now();
    } else this.#dropped++;
    this.#schedule(made ? this.#signal.renewMs : Math.min(RETRY_DROPPED_MS, this.#signal.renewMs));
  }

  #schedule(ms: number): void {
    clearTimeout(this.#timer);
    if (this.#state !== 'typing') return;
    const wait = Math.min(ms, this.#stopAt - this.#budget.now());
    this.#timer = setTimeout(() => this.#send(), Math.max(0, Math.ceil(wait)));
    this.#timer.unref?.();
  }
}
