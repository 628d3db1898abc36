/** What the emulator observed of one budget. */
export interface WindowCounters {
  /** Units accepted in all (calls, or recipients or target groups where the budget counts those). */
  accepted: number;
  /** Units refused for going over the limit. */
  rejected: number;
  /** The most units accepted in any one window so far: never above the limit. */
  busiestWindow: number;
  /** When the first and the latest accepted calls were applied (the emulator's monotonic ms). */
  firstAt?: number;
  lastAt?: number;
}

/**
 * The cloud's frequency limit: at most `limit` units accepted in any window of `windowMs` ending
 * now. Keeps the arrivals still inside the window with their units; refused calls are not counted.
 * A call usually costs one unit; RongCloud's message limits count one per recipient or target group.
 */
export class SlidingWindow {
  readonly #at: number[] = [];
  readonly #units: number[] = [];
  #head = 0;
  #inWindow = 0;
  readonly counters: WindowCounters = { accepted: 0, rejected: 0, busiestWindow: 0 };

  constructor(
    readonly limit: number,
    readonly windowMs: number,
  ) {}

  /** Whether `units` more fit at `now` (monotonic ms, never earlier than the last arrival). */
  fits(now: number, units = 1): boolean {
    this.#expire(now);
    return this.#inWindow + units <= this.limit;
  }

  /** Records `units` accepted at `now`; call only after `fits` said yes. */
  take(now: number, units = 1): void {
    this.#at.push(now);
    this.#units.push(units);
    this.#inWindow += units;
    this.counters.accepted += units;
    this.counters.firstAt ??= now;
    this.counters.lastAt = now;
    this.counters.busiestWindow = Math.max(this.counters.busiestWindow, this.#inWindow);
  }

  /** Counts `units` refused. */
  refuse(units = 1): void {
    this.counters.rejected += units;
  }

  /** Records one arrival at `now` if it fits (and counts a refusal if not); false when it goes over the limit. */
  admit(now: number, units = 1): boolean {
    if (!this.fits(now, units)) {
      this.refuse(units);
      return false;
    }
    this.take(now, units);
    return true;
  }

  /** Whether nothing accepted is left inside the window at `now`: the window may be forgotten. */
  idle(now: number): boolean {
    this.#expire(now);
    return this.#inWindow === 0;
  }

  #expire(now: number): void {
    while (this.#head < this.#at.length && (this.#at[this.#head] as number) <= now - this.windowMs) {
      this.#inWindow -= this.#units[this.#head] as number;
      this.#head++;
    }
    if (this.#head > 4096) {
      this.#at.splice(0, this.#head);
      this.#units.splice(0, this.#head);
      this.#head = 0;
    }
  }
}

/**
 * The most units arriving within any `windowMs` of each other (a sliding window over arrival
 * times, each call `units` strong, 1 by default): how tests and benchmarks judge a budget from the
 * call log, the way the cloud counts, rather than from its refusals.
 */
export function busiestWindow(
  arrivals: readonly { time: number; units?: number }[],
  windowMs: number,
): number {
  const sorted = [...arrivals].sort((a, b) => a.time - b.time);
  let busiest = 0;
  let sum = 0;
  let from = 0;
  for (const arrival of sorted) {
    sum += arrival.units ?? 1;
    for (let oldest = sorted[from]; oldest && oldest.time <= arrival.time - windowMs; oldest = sorted[from]) {
      sum -= oldest.units ?? 1;
      from++;
    }
    busiest = Math.max(busiest, sum);
  }
  return busiest;
}
