/** What the emulator observed of one API's budget. */
export interface WindowCounters {
  /** Calls accepted in all. */
  accepted: number;
  /** Calls refused for going over the limit. */
  rejected: number;
  /** The most calls accepted in any one window so far: never above the limit. */
  busiestWindow: number;
  /** When the first and the latest accepted calls were applied (the emulator's monotonic ms). */
  firstAt?: number;
  lastAt?: number;
}

/**
 * The cloud's frequency limit: at most `limit` accepted calls in any window of `windowMs` ending now.
 * Keeps the arrival times still inside the window; refused calls are not counted.
 */
export class SlidingWindow {
  readonly #arrivals: number[] = [];
  #head = 0;
  readonly counters: WindowCounters = { accepted: 0, rejected: 0, busiestWindow: 0 };

  constructor(
    readonly limit: number,
    readonly windowMs: number,
  ) {}

  /** Records an arrival at `now` (monotonic ms, never earlier than the last); false when it goes over the limit. */
  admit(now: number): boolean {
    while (
      this.#head < this.#arrivals.length &&
      (this.#arrivals[this.#head] as number) <= now - this.windowMs
    ) {
      this.#head++;
    }
    if (this.#head > 4096) {
      this.#arrivals.splice(0, this.#head);
      this.#head = 0;
    }
    const inWindow = this.#arrivals.length - this.#head;
    if (inWindow >= this.limit) {
      this.counters.rejected++;
      return false;
    }
    this.#arrivals.push(now);
    this.counters.accepted++;
    this.counters.firstAt ??= now;
    this.counters.lastAt = now;
    this.counters.busiestWindow = Math.max(this.counters.busiestWindow, inWindow + 1);
    return true;
  }
}
