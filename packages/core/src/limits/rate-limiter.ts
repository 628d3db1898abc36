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
 * One budget a call draws on, as the cloud's rate table states it (`RateCharge` is one): `units` of
 * `limit` per `windowMs` under `key` (`openim/sendmsg`, `group-messages:<GroupId>`).
 */
export interface BudgetCharge {
  readonly key: string;
  readonly units: number;
  readonly limit: number;
  readonly windowMs: number;
}

/**
 * Decides when a call may start. Keys are API names: each API has its own budget. Implement this to
 * share one budget across processes; the default is in memory, for one process.
 */
export interface RateLimiter {
  acquire(key: string, signal?: AbortSignal): Promise<RateLimitPermit>;
  /**
   * One permit for a call that draws on several budgets at once (its API's, its group's), all or
   * nothing: it is granted when every budget has its units free, and takes them together; while any
   * is short it takes none, so no budget is held while another is waited for. Without it, a call
   * is limited by its first budget only (its API's, through `acquire`).
   */
  acquireAll?(charges: readonly BudgetCharge[], signal?: AbortSignal): Promise<RateLimitPermit>;
  /** `acquireAll` now if every budget has room and nobody waits on any, else `undefined` (`tryAcquire`'s rule). */
  tryAcquireAll?(charges: readonly BudgetCharge[]): RateLimitPermit | undefined;
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
  acquireAll: () => freePermit,
  tryAcquireAll: () => ({ release() {} }),
  callsPerSecond: () => Number.POSITIVE_INFINITY,
  tryAcquire: () => ({ release() {} }),
};

export interface InMemoryRateLimiterOptions {
  /**
   * Calls allowed per window, per key. Default 200, the Tencent robot APIs' limit. It also caps the
   * budgets `acquireAll` is given whose window is this one (a table's 40 a second stays 40, a
   * 200 a second row under `limit: 5` becomes 5).
   */
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
  /** For `acquireAll`: every budget and its units; the waiter sits in the queue of one that was short. */
  needs?: Need[];
  /** The lane whose queue holds it now. */
  lane: Lane;
}

interface Need {
  lane: Lane;
  units: number;
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
  /** Its slots: the limiter's `limit`, or a charge's (capped by the limiter's in its window). */
  limit: number;
  constructor(limit: number) {
    this.limit = limit;
  }
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

  /**
   * All of `charges` at once or none (see `RateLimiter.acquireAll`). A call that finds a budget short
   * waits in that budget's queue only, so a busy group's calls never stand in front of other groups'
   * calls in their API's queue; when its turn comes there and another budget is short, it moves to
   * that one's queue, holding nothing. Each budget's slots follow the arrival rule above.
   */
  acquireAll(charges: readonly BudgetCharge[], signal?: AbortSignal): Promise<RateLimitPermit> {
    signal?.throwIfAborted();
    const needs = this.#needsOf(charges);
    const short = this.#shortOf(needs, true);
    if (short === undefined) return Promise.resolve(this.#grantAll(needs));
    return this.#wait(short, signal, needs);
  }

  tryAcquireAll(charges: readonly BudgetCharge[]): RateLimitPermit | undefined {
    const needs = this.#needsOf(charges);
    return this.#shortOf(needs, true) === undefined ? this.#grantAll(needs) : undefined;
  }

  #needsOf(charges: readonly BudgetCharge[]): Need[] {
    const needs: Need[] = [];
    for (const charge of charges) {
      const lane = this.#laneOf(charge.key);
      lane.limit = charge.windowMs === this.windowMs ? Math.min(charge.limit, this.limit) : charge.limit;
      // A call worth more units than the budget has could never go: it takes the whole budget.
      needs.push({ lane, units: Math.max(1, Math.min(charge.units, lane.limit)) });
    }
    return needs;
  }

  /** The first budget without room for its units (or, when `queued`, with callers waiting on it). */
  #shortOf(needs: readonly Need[], queued: boolean): Lane | undefined {
    for (const { lane, units } of needs) {
      if ((queued && lane.waiters.size > 0) || !this.#hasRoom(lane, units)) return lane;
    }
    return undefined;
  }

  /** One permit over every budget's units: released together, each slot cooling by the same rule. */
  #grantAll(needs: readonly Need[]): RateLimitPermit {
    const permits = needs.map(({ lane, units }) => this.#grant(lane, units));
    if (permits.length === 1) return permits[0] as RateLimitPermit;
    let released = false;
    return {
      release: (roundTripMs?: number) => {
        if (released) return;
        released = true;
        for (const permit of permits) permit.release(roundTripMs);
      },
    };
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
      lane = new Lane(this.limit);
      this.#lanes.set(key, lane);
    }
    return lane;
  }

  #expire(lane: Lane): void {
    const now = this.#now();
    while (lane.cooling.size > 0 && (lane.cooling.peek() as number) <= now) lane.cooling.shift();
  }

  #hasRoom(lane: Lane, units = 1): boolean {
    this.#expire(lane);
    return lane.busy + lane.cooling.size + units <= lane.limit;
  }

  #grant(lane: Lane, units = 1): RateLimitPermit {
    lane.busy += units;
    let released = false;
    return {
      release: (roundTripMs?: number) => {
        if (released) return;
        released = true;
        lane.busy -= units;
        let holdMs = this.windowMs;
        if (roundTripMs !== undefined) {
          this.#floor?.observe(roundTripMs);
          // Never past the window: a floor above it would free the slot before the answer.
          holdMs -= Math.min(this.floorRoundTripMs, this.windowMs);
        }
        const freeAt = this.#now() + holdMs;
        for (let i = 0; i < units; i++) lane.cooling.push(freeAt);
        if (lane.waiters.size > 0) this.#schedule(lane);
      },
    };
  }

  #wait(lane: Lane, signal: AbortSignal | undefined, needs?: Need[]): Promise<RateLimitPermit> {
    return new Promise<RateLimitPermit>((resolve, reject) => {
      const onAbort = () => {
        waiter.lane.waiters.remove(waiter);
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        resolve,
        reject,
        detach: () => signal?.removeEventListener('abort', onAbort),
        lane,
      };
      if (needs) waiter.needs = needs;
      signal?.addEventListener('abort', onAbort, { once: true });
      lane.waiters.push(waiter);
      this.#schedule(lane);
    });
  }

  /** Lets waiters through while there is room, then sleeps until the oldest cooling slot frees. */
  #pump(lane: Lane): void {
    lane.timer = undefined;
    for (let waiter = lane.waiters.peek(); waiter; waiter = lane.waiters.peek()) {
      const needs = waiter.needs;
      if (!needs) {
        if (!this.#hasRoom(lane)) break;
        lane.waiters.shift();
        waiter.detach();
        waiter.resolve(this.#grant(lane));
        continue;
      }
      const own = needs.find((need) => need.lane === lane) as Need;
      if (!this.#hasRoom(lane, own.units)) break;
      lane.waiters.shift();
      // Its turn here: if another budget is short, it waits there instead, holding nothing, and the
      // callers behind it here go on (a busy group does not stall its API's queue).
      const short = this.#shortOf(needs, false);
      if (short === undefined) {
        waiter.detach();
        waiter.resolve(this.#grantAll(needs));
        continue;
      }
      waiter.lane = short;
      short.waiters.push(waiter);
      this.#schedule(short);
    }
    if (lane.waiters.size > 0) this.#schedule(lane);
  }

  #schedule(lane: Lane): void {
    if (lane.timer !== undefined) return;
    const head = lane.waiters.peek();
    const units = head?.needs?.find((need) => need.lane === lane)?.units ?? 1;
    if (this.#hasRoom(lane, units)) {
      lane.timer = setTimeout(() => this.#pump(lane), 0);
      return;
    }
    // Every slot is busy: a release will call back here. Otherwise wake when the oldest cools down;
    // `#pump` re-reads the clock, so a timer that fires early (a call of several units) only costs
    // another round.
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
  const under = (charges: readonly BudgetCharge[]) =>
    charges.map((charge) => ({ ...charge, key: `${scope}/${charge.key}` }));
  const acquireAll = limiter.acquireAll?.bind(limiter);
  if (acquireAll) scoped.acquireAll = (charges, signal) => acquireAll(under(charges), signal);
  const tryAcquireAll = limiter.tryAcquireAll?.bind(limiter);
  if (tryAcquireAll) scoped.tryAcquireAll = (charges) => tryAcquireAll(under(charges));
  return scoped;
}
