import { Queue } from '../queue.js';

/**
 * Rate limiting as the clouds count it: at most `limit` calls of one API *arriving* in any window of
 * `windowMs`. Counting the moment a call leaves the limiter is not enough (it may still wait in the
 * connection pool and arrive later, bunched with the next window's calls), and neither is a token
 * bucket that starts full (it lets `limit` through, then refills while the window is still open).
 *
 * The rule used here: a call holds one of `limit` slots from the moment it is let through until
 * `windowMs` after it has completed. A call arrives at the cloud somewhere between those two moments,
 * so any two calls arriving less than `windowMs` apart hold their slots at the same instant; with
 * `limit` slots, no window can see more than `limit` arrivals, however long they queued on the way.
 * Throughput is `limit / (windowMs + round trip)`: 99.5 % of the budget at a 5 ms round trip.
 */

/** A call's right to go; `release()` once it has completed (with any outcome). */
export interface RateLimitPermit {
  release(): void;
}

/**
 * Decides when a call may start. Keys are API names: each API has its own budget. Implement this to
 * share one budget across processes; the default is in memory, for one process.
 */
export interface RateLimiter {
  acquire(key: string, signal?: AbortSignal): Promise<RateLimitPermit>;
  /**
   * The calls per second this process may make of `key`, if the limiter knows it. Stream sessions use
   * it to open no more messages than the budget can keep alive; without it they open all they are asked.
   */
  callsPerSecond?(key: string): number;
}

/** The limiter of `rateLimit: false`: every call goes at once. */
export const noRateLimit: RateLimiter = {
  acquire: () => Promise.resolve({ release() {} }),
  callsPerSecond: () => Number.POSITIVE_INFINITY,
};

export interface InMemoryRateLimiterOptions {
  /** Calls allowed per window, per key. Default 200, the Tencent robot APIs' limit. */
  limit?: number;
  /** Window length. Default 1000 ms. */
  windowMs?: number;
  /** Monotonic clock in milliseconds; injectable for tests. */
  now?: () => number;
}

interface Waiter {
  resolve: (permit: RateLimitPermit) => void;
  reject: (reason: unknown) => void;
  detach: () => void;
}

/** The state of one key: slots in use, slots cooling down until a time, and callers waiting. */
class Lane {
  busy = 0;
  readonly cooling = new Queue<number>();
  readonly waiters = new Queue<Waiter>();
  timer: NodeJS.Timeout | undefined;
}

/** The default `RateLimiter`: the slot rule above, per key, in this process. */
export class InMemoryRateLimiter implements RateLimiter {
  readonly limit: number;
  readonly windowMs: number;
  readonly #now: () => number;
  readonly #lanes = new Map<string, Lane>();

  constructor(options: InMemoryRateLimiterOptions = {}) {
    this.limit = options.limit ?? 200;
    this.windowMs = options.windowMs ?? 1000;
    this.#now = options.now ?? (() => performance.now());
  }

  acquire(key: string, signal?: AbortSignal): Promise<RateLimitPermit> {
    signal?.throwIfAborted();
    let lane = this.#lanes.get(key);
    if (!lane) {
      lane = new Lane();
      this.#lanes.set(key, lane);
    }
    if (lane.waiters.size === 0 && this.#hasRoom(lane)) return Promise.resolve(this.#grant(lane));
    return this.#wait(lane, signal);
  }

  callsPerSecond(): number {
    return (this.limit * 1000) / this.windowMs;
  }

  /** Slots currently held or cooling for `key`: what the cloud may still count in its window. */
  inUse(key: string): number {
    const lane = this.#lanes.get(key);
    if (!lane) return 0;
    this.#expire(lane);
    return lane.busy + lane.cooling.size;
  }

  #expire(lane: Lane): void {
    const now = this.#now();
    while (lane.cooling.size > 0 && (lane.cooling.peek() as number) <= now) lane.cooling.shift();
  }

  #hasRoom(lane: Lane): boolean {
    this.#expire(lane);
    return lane.busy + lane.cooling.size < this.limit;
  }

  #grant(lane: Lane): RateLimitPermit {
    lane.busy++;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        lane.busy--;
        lane.cooling.push(this.#now() + this.windowMs);
        if (lane.waiters.size > 0) this.#schedule(lane);
      },
    };
  }

  #wait(lane: Lane, signal: AbortSignal | undefined): Promise<RateLimitPermit> {
    return new Promise<RateLimitPermit>((resolve, reject) => {
      const onAbort = () => {
        lane.waiters.remove(waiter);
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        resolve,
        reject,
        detach: () => signal?.removeEventListener('abort', onAbort),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      lane.waiters.push(waiter);
      this.#schedule(lane);
    });
  }

  /** Lets waiters through while there is room, then sleeps until the oldest cooling slot frees. */
  #pump(lane: Lane): void {
    lane.timer = undefined;
    while (lane.waiters.size > 0 && this.#hasRoom(lane)) {
      const waiter = lane.waiters.shift() as Waiter;
      waiter.detach();
      waiter.resolve(this.#grant(lane));
    }
    if (lane.waiters.size > 0) this.#schedule(lane);
  }

  #schedule(lane: Lane): void {
    if (lane.timer !== undefined) return;
    if (this.#hasRoom(lane)) {
      lane.timer = setTimeout(() => this.#pump(lane), 0);
      return;
    }
    // Every slot is busy: a release will call back here. Otherwise wake when the oldest cools down;
    // `#pump` re-reads the clock, so a timer that fires early only costs another round.
    const freeAt = lane.cooling.peek();
    if (freeAt === undefined) return;
    lane.timer = setTimeout(() => this.#pump(lane), Math.max(0, Math.ceil(freeAt - this.#now())));
  }
}

/**
 * `limiter` with every key put under `scope` (`tencent:1400000000`): a limiter shared by the clients
 * of several apps, such as one on Redis, then keeps one budget per app and API.
 */
export function scopedLimiter(limiter: RateLimiter, scope: string): RateLimiter {
  const scoped: RateLimiter = {
    acquire: (key, signal) => limiter.acquire(`${scope}/${key}`, signal),
  };
  const callsPerSecond = limiter.callsPerSecond?.bind(limiter);
  if (callsPerSecond) scoped.callsPerSecond = (key) => callsPerSecond(`${scope}/${key}`);
  return scoped;
}
