import { DueTimer } from './due-timer.js';

/**
 * A session's idle timeout: it ends the session once nothing was written for `timeoutMs`, unless the
 * writer is held back by backpressure (`waiting`), since then it waits for the session, not idles.
 */
export class IdleWatch {
  readonly #timer: DueTimer;
  readonly #now: () => number;
  readonly #timeoutMs: number;

  constructor(
    clock: { now: () => number; idleTimeoutMs: number },
    waiting: () => boolean,
    onIdle: () => unknown,
  ) {
    this.#now = clock.now;
    this.#timeoutMs = clock.idleTimeoutMs;
    this.#timer = new DueTimer(clock.now, () => (waiting() ? this.wrote() : onIdle()));
    this.wrote();
  }

  /** Text was written (or the writer still waits): the timeout counts from now. */
  wrote(): void {
    this.#timer.set(this.#now() + this.#timeoutMs);
  }

  /** Stops the timer: the session finished. */
  stop(): void {
    this.#timer.clear();
  }
}
