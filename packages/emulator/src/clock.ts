/**
 * The emulator's sense of time. `now` stamps messages and calls (milliseconds since the epoch) and
 * decides when a stream is abandoned; `elapsed` measures rate windows and durations. A test hands in
 * its own `now` (both then follow it) and moves time on instead of sleeping.
 */
export interface Clock {
  now(): number;
  elapsed(): number;
}

/** The real clock: the wall for stamps, the monotonic clock for windows. */
export const realClock: Clock = { now: () => Date.now(), elapsed: () => performance.now() };

/** The clock of `startEmulator({ now })`: the real one, or one that follows `now` alone. */
export function clockOf(now: (() => number) | undefined): Clock {
  return now ? { now, elapsed: now } : realClock;
}
