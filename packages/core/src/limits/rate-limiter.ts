import TinyQueue from 'tinyqueue';
import { Queue } from '../queue.js';

/**
 * Rate limiting as the clouds count it: at most `limit` calls of one API *arriving* in any window of
 * `windowMs`. Counting the moment a call leaves the limiter is not enough (it may still wait in the
 * connection pool and arrive later, bunched with the next window's calls), and neither is a token
 * bucket that starts full (it lets `limit` through, then refills while the window is still open).
 *
 * What is known of a call's arrival. A call is let through at `s` and its answer is read at `e`. It
 * reached the cloud at some `a` between them: after its request travelled (`q`), before its answer
 * travelled back (`p`), so `s + q <= a <= e - p`. Neither leg is measured, only their sum with the
 * cloud's own time, the round trip `e - s`.
 *
 * The answer-bound rule holds a slot from `s` to `e + windowMs`. For two arrivals less than a window
 * apart, the later call is let through before the earlier one's answer came back plus a window, so
 * their slots are held at the same instant; `limit` slots, at most `limit` arrivals in any window,
 * whatever the legs. It is the tightest rule when nothing is assumed of the legs: a request may take
 * the whole round trip one time and none of it the next. But it spends a round trip of every slot
 * idle: `limit / (windowMs + round trip)`, 91 % of the budget at a 100 ms round trip.
 *
 * The rule used here assumes one thing the network gives: each leg has a fastest trip, `Q` out and
 * `P` back, the same for every call on the route (jitter only adds to them). Their sum `F = Q + P`
 * is the least round trip any call can take. Map each call to the window `[a - Q, a - Q + windowMs)`:
 * two such windows overlap exactly when the arrivals are less than a window apart, and each lies
 * within `[s, e - F + windowMs)`, because `a - Q >= s` and `a - Q <= e - P - Q`. So holding a slot
 * from `s` until `windowMs - F` after the answer still lets no window see more than `limit`
 * arrivals, for any split of `F` between the legs: only the sum is needed, never the split. The slot
 * now idles for the round trip's jitter above `F` instead of the whole round trip.
 *
 * `F` must hold for calls still to come, so it is learnt from the fastest round trips ever seen
 * (`RoundTripFloor`): the fastest, less twice the spread of the next fastest above it and 1 ms,
 * so that an estimate from few or unlucky samples stays below the true floor; a route that turns
 * faster is the one case it cannot foresee, and the first faster answer lowers it. Until 64 answers were seen,
 * and for calls without an answer (a timeout, a dropped connection), the answer-bound rule applies.
 * `floorRoundTripMs` fixes `F` instead; 0 is the answer-bound rule.
 *
 * Holds differ from call to call (the estimate moves; unanswered calls hold a whole window), so the
 * cooling slots are kept by the time they free, not by the order they were released: a slot never
 * waits for an older one that happens to cool longer.
 */

/**
 * How many of the fastest round trips ever seen are kept. The fastest of many lies above the floor
 * by about one gap between neighbours; the 16th fastest lies 15 gaps above it. Taking twice that
 * spread off, the estimate stays below the floor unless one gap outgrows thirty (odds of about 1 in
 * 14 million when round trips spread evenly above the floor, the 1 ms margin aside); the spread of
 * the fastest shrinks as answers come, so this costs little.
 */
const FASTEST_KEPT = 16;
const SPREAD_FACTOR = 2;
/** Taken off the estimate besides: below a millisecond the legs' floors are not worth betting on. */
const MARGIN_MS = 1;
/**
 * Answers not learnt from at first: they opened the connections, and a round trip that includes
 * a handshake says nothing of the floor the warm calls after it will have.
 */
const WARM_UP = 256;

/**
 * The least round trip a route allows, learnt from answers. The fastest answer seen is close to it
 * but above it by an unknown amount, about as far as the next fastest lie above the fastest. So the
 * estimate is the fastest, less twice the gap up to the 16th fastest, less 1 ms, never below 0; it
 * tightens as answers come, and the first faster answer (a faster route) lowers it at once. Slow
 * answers (queueing, a slower route) do not move it: the legs' floors stay where they were. The
 * first 256 answers are not learnt from (they opened the connections), so it is 0 until 272 answers
 * were seen. Shared by the in-memory and Redis limiters.
 */
export class RoundTripFloor {
  /** The fastest round trips seen, fastest first. */
  readonly #fastest: number[] = [];
  #seen = 0;
  #floorMs = 0;

  /** Takes one answered call's round trip. */
  observe(roundTripMs: number): void {
    if (!(roundTripMs >= 0) || ++this.#seen <= WARM_UP) return;
    const fastest = this.#fastest;
    if (fastest.length === FASTEST_KEPT && roundTripMs >= (fastest[FASTEST_KEPT - 1] as number)) return;
    if (fastest.length === FASTEST_KEPT) fastest.pop();
    let i = fastest.length;
    while (i > 0 && (fastest[i - 1] as number) > roundTripMs) i--;
    fastest.splice(i, 0, roundTripMs);
    this.#estimate();
  }

  #estimate(): void {
    // Until 16 are kept there is no spread to judge by.
    const first = this.#fastest[0] as number;
    const last = this.#fastest[this.#fastest.length - 1] as number;
    this.#floorMs =
      this.#fastest.length < FASTEST_KEPT
        ? 0
        : Math.max(0, first - SPREAD_FACTOR * (last - first) - MARGIN_MS);
  }

  /** The floor to count on now, in ms: 0 until enough answers were seen. */
  get floorMs(): number {
    return this.#floorMs;
  }
}

/**
 * A call's right to go; `release()` once it has completed (with any outcome), with its round trip
 * when its answer was read (from just before the request was handed to the transport): the limiter
 * then frees the slot as early as the arrival rule allows.
 */
export interface RateLimitPermit {
  release(roundTripMs?: number): void;
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
  /** Slots of `key` held or cooling now, if the limiter can tell at once (for `stats()` and metrics). */
  inUse?(key: string): number;
  /**
   * A permit for `key` now if one is free and nobody waits for one, else `undefined`: for calls
   * that are worth making only when they cost nobody anything (typing signals). Without it, such
   * calls go only while `inUse` shows the budget mostly free.
   */
  tryAcquire?(key: string): RateLimitPermit | undefined;
}

/** The permit of a call nothing limits: one for all, as it holds nothing. */
const freePermit: Promise<RateLimitPermit> = Promise.resolve({ release() {} });

/** The limiter of `rateLimit: false`: every call goes at once. */
export const noRateLimit: RateLimiter = {
  acquire: () => freePermit,
  callsPerSecond: () => Number.POSITIVE_INFINITY,
  tryAcquire: () => ({ release() {} }),
};

export interface InMemoryRateLimiterOptions {
  /** Calls allowed per window, per key. Default 200, the Tencent robot APIs' limit. */
  limit?: number;
  /** Window length. Default 1000 ms. */
  windowMs?: number;
  /** Monotonic clock in milliseconds; injectable for tests. */
  now?: () => number;
  /**
   * The least round trip any call can take, if known; default: learnt from the answers. 0 holds
   * every slot a whole window after its answer (the answer-bound rule).
   */
  floorRoundTripMs?: number;
}

interface Waiter {
  resolve: (permit: RateLimitPermit) => void;
  reject: (reason: unknown) => void;
  detach: () => void;
}

/**
 * When cooling slots free, earliest first. Holds are nearly always released in the order they free
 * (a FIFO, O(1)); the few that free before one released earlier go to a binary heap (O(log n)).
 */
class CoolingSlots {
  readonly #inOrder = new Queue<number>();
  #last = Number.NEGATIVE_INFINITY;
  readonly #outOfOrder = new TinyQueue<number>([], (a, b) => a - b);

  get size(): number {
    return this.#inOrder.size + this.#outOfOrder.length;
  }

  peek(): number | undefined {
    const a = this.#inOrder.peek();
    const b = this.#outOfOrder.peek();
    if (a === undefined) return b;
    return b === undefined || a <= b ? a : b;
  }

  push(time: number): void {
    if (time >= this.#last || this.#inOrder.size === 0) {
      this.#inOrder.push(time);
      this.#last = time;
    } else {
      this.#outOfOrder.push(time);
    }
  }

  /** Removes the earliest. */
  shift(): void {
    const a = this.#inOrder.peek();
    const b = this.#outOfOrder.peek();
    if (b === undefined || (a !== undefined && a <= b)) this.#inOrder.shift();
    else this.#outOfOrder.pop();
  }
}

/** The state of one key: slots in use, slots cooling down until a time, and callers waiting. */
class Lane {
  busy = 0;
  readonly cooling = new CoolingSlots();
  readonly waiters = new Queue<Waiter>();
  timer: NodeJS.Timeout | undefined;
}

/** The default `RateLimiter`: the slot rule above, per key, in this process. */
export class InMemoryRateLimiter implements RateLimiter {
  readonly limit: number;
  readonly windowMs: number;
  readonly #now: () => number;
  readonly #lanes = new Map<string, Lane>();
  /** One route to the cloud: every key shares what its answers teach. */
  readonly #floor: RoundTripFloor | undefined;
  readonly #fixedFloorMs: number;

  constructor(options: InMemoryRateLimiterOptions = {}) {
    this.limit = options.limit ?? 200;
    this.windowMs = options.windowMs ?? 1000;
    this.#now = options.now ?? (() => performance.now());
    this.#fixedFloorMs = Math.max(0, options.floorRoundTripMs ?? 0);
    this.#floor = options.floorRoundTripMs === undefined ? new RoundTripFloor() : undefined;
  }

  /** The least round trip counted on now (ms): learnt, or as given. */
  get floorRoundTripMs(): number {
    return this.#floor ? this.#floor.floorMs : this.#fixedFloorMs;
  }

  acquire(key: string, signal?: AbortSignal): Promise<RateLimitPermit> {
    signal?.throwIfAborted();
    const lane = this.#laneOf(key);
    if (lane.waiters.size === 0 && this.#hasRoom(lane)) return Promise.resolve(this.#grant(lane));
    return this.#wait(lane, signal);
  }

  tryAcquire(key: string): RateLimitPermit | undefined {
    const lane = this.#laneOf(key);
    return lane.waiters.size === 0 && this.#hasRoom(lane) ? this.#grant(lane) : undefined;
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

  #laneOf(key: string): Lane {
    let lane = this.#lanes.get(key);
    if (!lane) {
      lane = new Lane();
      this.#lanes.set(key, lane);
    }
    return lane;
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
      release: (roundTripMs?: number) => {
        if (released) return;
        released = true;
        lane.busy--;
        let holdMs = this.windowMs;
        if (roundTripMs !== undefined) {
          this.#floor?.observe(roundTripMs);
          // Never past the window: a floor above it would free the slot before the answer.
          holdMs -= Math.min(this.floorRoundTripMs, this.windowMs);
        }
        lane.cooling.push(this.#now() + holdMs);
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
  const inUse = limiter.inUse?.bind(limiter);
  if (inUse) scoped.inUse = (key) => inUse(`${scope}/${key}`);
  const tryAcquire = limiter.tryAcquire?.bind(limiter);
  if (tryAcquire) scoped.tryAcquire = (key) => tryAcquire(`${scope}/${key}`);
  return scoped;
}
