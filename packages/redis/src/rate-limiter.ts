import { randomUUID } from 'node:crypto';
import {
  type BudgetCharge,
  ClosedError,
  InMemoryRateLimiter,
  type RateLimiter,
  type RateLimitPermit,
} from '@imbot/core';
import { RoundTripFloor } from '@imbot/core/internal';
import * as z from 'zod';
import { connect, connectionShape, type RedisClient, type RedisOptions } from './connection.js';
import { ACQUIRE, ACQUIRE_ALL, HEARTBEAT, OCCUPY, RELEASE, RELEASE_ALL } from './scripts.js';

export type RedisRateLimiterOptions = RedisOptions & {
  /** Calls allowed per window, per key, across every process. Default 200. */
  limit?: number;
  /** Window length. Default 1000 ms. */
  windowMs?: number;
  /** Longest a call may hold its slot before it is released; a crashed process's slots come back after it. Default 30 s. */
  leaseMs?: number;
};

const options = z.strictObject({
  ...connectionShape,
  limit: z.number().int().positive().optional(),
  windowMs: z.number().int().positive().optional(),
  leaseMs: z.number().int().positive().optional(),
});

/** A process that has not asked or beaten for this long is taken for gone. */
const STALE_MS = 3000;
const HEARTBEAT_MS = 1000;
/** Bounds of the wait between two asks while no slot is free: never a tight loop, never long. */
const MIN_WAIT_MS = 2;
const MAX_WAIT_MS = 25;

interface Commands {
  imbotAcquire(...args: (string | number)[]): Promise<[number, number, number]>;
  imbotRelease(...args: (string | number)[]): Promise<number>;
  imbotHeartbeat(...args: (string | number)[]): Promise<number>;
  imbotOccupy(...args: (string | number)[]): Promise<number>;
  imbotAcquireAll(...args: (string | number)[]): Promise<[number, number, number]>;
  imbotReleaseAll(...args: (string | number)[]): Promise<number>;
}

/**
 * A set of budgets some calls draw on together (an API's and a group's), as Redis keeps it: every
 * key under one hash tag, the app's, so one script reads and takes them all at once, even on a
 * Redis Cluster.
 */
class ChargeLane {
  readonly waiters: Waiter[] = [];
  pumping = false;
  /** waiting, seq, then each budget's slots. */
  readonly keys: string[];
  /** Each budget's units and limit, as the acquiring script takes them. */
  readonly args: number[] = [];
  constructor(
    prefix: string,
    readonly charges: readonly BudgetCharge[],
    cap: (charge: BudgetCharge) => number,
  ) {
    // The app's scope, as clients name keys (`tencent:1400000000/…`): one tag for all its budgets.
    const first = (charges[0] as BudgetCharge).key;
    const tag = `${prefix}:{${first.includes('/') ? first.slice(0, first.indexOf('/')) : first}}`;
    this.keys = [`${tag}:${charges.map((c) => c.key).join('|')}:waiting`, `${tag}:seq`];
    for (const charge of charges) {
      const limit = cap(charge);
      this.keys.push(`${tag}:${charge.key}:slots`);
      this.args.push(Math.max(1, Math.min(charge.units, limit)), limit);
    }
  }
}

interface Waiter {
  resolve: (permit: RateLimitPermit) => void;
  reject: (reason: unknown) => void;
  detach: () => void;
}

class Lane {
  readonly waiters: Waiter[] = [];
  pumping = false;
  /** This process's calls in flight, and when its recent ones completed: carried across a switch of budget. */
  inFlight = 0;
  /** Completion times, oldest first; at most one window's worth (a few hundred) is kept. */
  readonly completed: number[] = [];
  constructor(readonly keys: string[]) {}

  /** Calls the cloud may still count in its window: in flight, or completed within `windowMs`. */
  recent(windowMs: number): number {
    const since = performance.now() - windowMs;
    const stale = this.completed.findIndex((t) => t >= since);
    this.completed.splice(0, stale < 0 ? this.completed.length : stale);
    return this.inFlight + this.completed.length;
  }

  /** A permit that counts its call as in flight until released. */
  track(release: (roundTripMs?: number) => void): RateLimitPermit {
    this.inFlight++;
    let done = false;
    return {
      release: (roundTripMs?: number) => {
        if (done) return;
        done = true;
        this.inFlight--;
        this.completed.push(performance.now());
        if (this.completed.length > 4096) this.completed.splice(0, this.completed.length - 4096);
        release(roundTripMs);
      },
    };
  }
}

/**
 * The app's call budget shared by every process through Redis, with the same arrival-safe rule as
 * `InMemoryRateLimiter`: a call holds one of `limit` slots from the moment it is let through until
 * `windowMs` after its answer, less the route's least round trip (learnt from the answers), so no
 * window sees more than `limit` arrivals at the cloud, whichever process made them. The rule runs atomically in Lua on Redis's clock. Processes waiting for slots
 * share the free ones equally, each asking for all its waiting calls at once and sleeping until the
 * earliest slot frees (2–25 ms), never in a tight loop.
 *
 * If Redis cannot be reached, each process falls back at once to its share of the budget (`limit` ÷
 * the live processes it last heard of through heartbeats) and returns to the shared budget when
 * Redis answers again: a call never fails because Redis did.
 *
 * @example
 * const rateLimit = new RedisRateLimiter({ url: process.env.REDIS_URL, prefix: 'imbot:1400000000' });
 * const im = new TencentIm({ ..., rateLimit });
 */
export class RedisRateLimiter implements RateLimiter {
  readonly limit: number;
  readonly windowMs: number;
  /** This process's name among the limiter's users. */
  readonly processId = randomUUID();
  readonly #client: RedisClient & Commands;
  readonly #owned: boolean;
  readonly #prefix: string;
  readonly #leaseMs: number;
  readonly #lanes = new Map<string, Lane>();
  readonly #chargeLanes = new Map<string, ChargeLane>();
  readonly #heartbeat: NodeJS.Timeout;
  readonly #connected: Promise<void>;
  #liveProcesses = 1;
  readonly #floor = new RoundTripFloor();
  #fallback: InMemoryRateLimiter | undefined;
  #closed = false;

  constructor(options_: RedisRateLimiterOptions) {
    const { client, owned, connected, prefix } = connect<Commands>(options, options_, {
      imbotAcquire: { keys: 3, lua: ACQUIRE },
      imbotRelease: { keys: 1, lua: RELEASE },
      imbotHeartbeat: { keys: 1, lua: HEARTBEAT },
      imbotOccupy: { keys: 2, lua: OCCUPY },
      imbotAcquireAll: { lua: ACQUIRE_ALL },
      imbotReleaseAll: { lua: RELEASE_ALL },
    });
    this.#client = client;
    this.#owned = owned;
    this.#connected = connected;
    this.#prefix = `${prefix}:rl`;
    this.limit = options_.limit ?? 200;
    this.windowMs = options_.windowMs ?? 1000;
    this.#leaseMs = options_.leaseMs ?? 30_000;
    // No beat before the client has had its chance to connect: a cluster client takes longer than a
    // beat's interval to be ready, and a beat that fails sends this process to its fallback share.
    const beat = () => void this.#connected.then(() => this.#beat());
    this.#heartbeat = setInterval(beat, HEARTBEAT_MS).unref();
    beat();
  }

  /** Processes sharing the budget, as last heard through heartbeats. */
  get liveProcesses(): number {
    return this.#liveProcesses;
  }

  /** True while Redis cannot be reached and this process spends its share alone. */
  get fallingBack(): boolean {
    return this.#fallback !== undefined;
  }

  /** This process's share of the calls per second: what its stream sessions can keep alive. */
  callsPerSecond(): number {
    return (this.limit * 1000) / this.windowMs / Math.max(1, this.#liveProcesses);
  }

  /**
   * This process's part of `key`'s budget in use: its calls in flight or answered within the last
   * window (for `stats()` and the budget gauge, beside `callsPerSecond()`, this process's share).
   */
  inUse(key: string): number {
    return this.#lanes.get(key)?.recent(this.windowMs) ?? 0;
  }

  acquire(key: string, signal?: AbortSignal): Promise<RateLimitPermit> {
    signal?.throwIfAborted();
    if (this.#closed) return Promise.reject(new ClosedError('the rate limiter is closed'));
    let lane = this.#lanes.get(key);
    if (!lane) {
      const base = `${this.#prefix}:{${key}}`;
      lane = new Lane([`${base}:slots`, `${base}:waiting`, `${base}:seq`]);
      this.#lanes.set(key, lane);
    }
    const current = lane;
    return new Promise<RateLimitPermit>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, detach: () => undefined };
      if (signal) {
        const onAbort = () => {
          const index = current.waiters.indexOf(waiter);
          if (index >= 0) current.waiters.splice(index, 1);
          reject(signal.reason);
        };
        signal.addEventListener('abort', onAbort, { once: true });
        waiter.detach = () => signal.removeEventListener('abort', onAbort);
      }
      current.waiters.push(waiter);
      void this.#pump(key, current);
    });
  }

  /**
   * A call's budgets (its API's, its group's) taken all or nothing, shared by every process: one Lua
   * script checks every budget and takes a slot of each (`units` of each) only if all have room, so
   * no budget is held while another is waited for. All of an app's keys share its hash tag (the
   * scope before the first `/` of the key, which clients set to the app), so the script's keys sit in
   * one slot of a Redis Cluster; an app's budgets then live on one node, which one script call per
   * grant handles easily. The limiter's `limit` caps each budget of its window, as in memory.
   */
  acquireAll(charges: readonly BudgetCharge[], signal?: AbortSignal): Promise<RateLimitPermit> {
    signal?.throwIfAborted();
    if (this.#closed) return Promise.reject(new ClosedError('the rate limiter is closed'));
    const id = charges
      .map((c) => `${c.key}\u0000${c.units}\u0000${c.limit}\u0000${c.windowMs}`)
      .join('\u0001');
    let lane = this.#chargeLanes.get(id);
    if (!lane) {
      lane = new ChargeLane(this.#prefix, charges, (c) =>
        c.windowMs === this.windowMs ? Math.min(c.limit, this.limit) : c.limit,
      );
      this.#chargeLanes.set(id, lane);
    }
    const current = lane;
    return new Promise<RateLimitPermit>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, detach: () => undefined };
      if (signal) {
        const onAbort = () => {
          const index = current.waiters.indexOf(waiter);
          if (index >= 0) current.waiters.splice(index, 1);
          reject(signal.reason);
        };
        signal.addEventListener('abort', onAbort, { once: true });
        waiter.detach = () => signal.removeEventListener('abort', onAbort);
      }
      current.waiters.push(waiter);
      void this.#pumpAll(current);
    });
  }

  async #pumpAll(lane: ChargeLane): Promise<void> {
    if (lane.pumping) return;
    lane.pumping = true;
    try {
      await this.#connected;
      while (lane.waiters.length > 0 && !this.#closed) {
        const fallback = this.#fallback;
        if (fallback) {
          this.#handOverAll(lane, fallback);
          continue;
        }
        let answer: [number, number, number];
        try {
          answer = await this.#client.imbotAcquireAll(
            lane.keys.length,
            ...lane.keys,
            this.processId,
            lane.waiters.length,
            this.#leaseMs,
            STALE_MS,
            ...lane.args,
          );
        } catch {
          this.#startFallback();
          continue;
        }
        const [granted, last, wait] = answer;
        for (let i = granted - 1; i >= 0; i--) {
          const member = `${this.processId}:${last - i}`;
          const waiter = lane.waiters.shift();
          if (!waiter) {
            this.#releaseAll(lane, member, undefined);
            continue;
          }
          waiter.detach();
          waiter.resolve(this.#track(lane, (roundTripMs) => this.#releaseAll(lane, member, roundTripMs)));
        }
        if (lane.waiters.length > 0) {
          await sleep(granted > 0 ? MIN_WAIT_MS : Math.min(MAX_WAIT_MS, Math.max(MIN_WAIT_MS, wait)));
        }
      }
    } finally {
      lane.pumping = false;
    }
  }

  /** A permit counted in this process's use of the call's first budget (its API's), for `inUse`. */
  #track(lane: ChargeLane, release: (roundTripMs?: number) => void): RateLimitPermit {
    const key = (lane.charges[0] as BudgetCharge).key;
    let local = this.#lanes.get(key);
    if (!local) {
      const base = `${this.#prefix}:{${key}}`;
      local = new Lane([`${base}:slots`, `${base}:waiting`, `${base}:seq`]);
      this.#lanes.set(key, local);
    }
    return local.track(release);
  }

  /** Frees the call's slots in every budget by each budget's window, as `#release` does for one. */
  #releaseAll(lane: ChargeLane, member: string, roundTripMs: number | undefined): void {
    let floorMs = 0;
    if (roundTripMs !== undefined) {
      this.#floor.observe(roundTripMs);
      floorMs = this.#floor.floorMs;
    }
    const args: number[] = [];
    lane.charges.forEach((charge, i) => {
      const hold = charge.windowMs - Math.min(floorMs, charge.windowMs);
      args.push(lane.args[2 * i] as number, Math.ceil(hold));
    });
    this.#client.imbotReleaseAll(lane.keys.length - 2, ...lane.keys.slice(2), member, ...args).catch(() => {
      // Redis is away: the slots free themselves when their lease ends.
    });
  }

  /** Hands the lane's waiters to the fallback, each budget cut to this process's share. */
  #handOverAll(lane: ChargeLane, fallback: InMemoryRateLimiter): void {
    const processes = Math.max(1, this.#liveProcesses);
    const shares = lane.charges.map((c, i) => ({
      ...c,
      limit: Math.max(1, Math.floor((lane.args[2 * i + 1] as number) / processes)),
    }));
    for (let waiter = lane.waiters.shift(); waiter; waiter = lane.waiters.shift()) {
      const { resolve, reject, detach } = waiter;
      detach();
      fallback
        .acquireAll(shares)
        .then((permit) => resolve(this.#track(lane, (rtt) => permit.release(rtt))), reject);
    }
  }

  /** Stops the heartbeat and closes the connection it opened (a client given to it is left open). */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#heartbeat);
    if (this.#owned) this.#client.disconnect();
  }

  async #pump(key: string, lane: Lane): Promise<void> {
    if (lane.pumping) return;
    lane.pumping = true;
    try {
      await this.#connected;
      while (lane.waiters.length > 0 && !this.#closed) {
        if (this.#fallback) {
          this.#handOver(key, lane, this.#fallback);
          continue;
        }
        let answer: [number, number, number];
        try {
          answer = await this.#client.imbotAcquire(
            ...lane.keys,
            this.processId,
            lane.waiters.length,
            this.limit,
            this.#leaseMs,
            STALE_MS,
          );
        } catch {
          this.#startFallback();
          continue;
        }
        const [granted, last, wait] = answer;
        const slots = lane.keys[0] as string;
        for (let i = granted - 1; i >= 0; i--) {
          const waiter = lane.waiters.shift();
          const member = `${this.processId}:${last - i}`;
          if (!waiter) {
            this.#release(slots, member, undefined);
            continue;
          }
          waiter.detach();
          waiter.resolve(lane.track((roundTripMs) => this.#release(slots, member, roundTripMs)));
        }
        // Served in part: the others take their parts first. Not served: back when a slot frees.
        if (lane.waiters.length > 0) {
          await sleep(granted > 0 ? MIN_WAIT_MS : Math.min(MAX_WAIT_MS, Math.max(MIN_WAIT_MS, wait)));
        }
      }
    } finally {
      lane.pumping = false;
    }
  }

  /** Hands the lane's waiters to the fallback limiter, in order. */
  #handOver(key: string, lane: Lane, fallback: InMemoryRateLimiter): void {
    for (let waiter = lane.waiters.shift(); waiter; waiter = lane.waiters.shift()) {
      const { resolve, reject, detach } = waiter;
      detach();
      fallback.acquire(key).then((permit) => resolve(lane.track((rtt) => permit.release(rtt))), reject);
    }
  }

  /**
   * Frees a slot `windowMs` after the call's answer, less the route's least round trip when the call
   * was answered (the rule of `InMemoryRateLimiter`, on Redis's clock). The floor is this process's
   * estimate: the processes sharing a budget reach the cloud over one route.
   */
  #release(slots: string, member: string, roundTripMs: number | undefined): void {
    let holdMs = this.windowMs;
    if (roundTripMs !== undefined) {
      this.#floor.observe(roundTripMs);
      holdMs -= Math.min(this.#floor.floorMs, this.windowMs);
    }
    this.#client.imbotRelease(slots, member, Math.ceil(holdMs)).catch(() => {
      // Redis is away: the slot frees itself when its lease ends.
    });
  }

  /**
   * Redis did not answer: spend this process's share alone until it does. The calls this process
   * made in the last window still count against the share.
   */
  #startFallback(): void {
    if (this.#fallback) return;
    const fallback = new InMemoryRateLimiter({
      limit: Math.max(1, Math.floor(this.limit / Math.max(1, this.#liveProcesses))),
      windowMs: this.windowMs,
    });
    this.#fallback = fallback;
    for (const [key, lane] of this.#lanes) {
      for (let i = lane.recent(this.windowMs); i > 0; i--)
        void fallback.acquire(key).then((p) => p.release());
    }
  }

  async #beat(): Promise<void> {
    try {
      this.#liveProcesses = Math.max(
        1,
        await this.#client.imbotHeartbeat(`${this.#prefix}:processes`, this.processId, STALE_MS),
      );
      if (this.#fallback) {
        // Redis is back: the calls made alone in the last window take their slots in the shared
        // budget, then new calls go to it; waiters already handed to the fallback get their slots there.
        for (const lane of this.#lanes.values()) {
          await this.#client.imbotOccupy(
            lane.keys[0] as string,
            lane.keys[2] as string,
            this.processId,
            lane.recent(this.windowMs),
            this.windowMs,
          );
        }
        this.#fallback = undefined;
        for (const [key, lane] of this.#lanes) void this.#pump(key, lane);
        for (const lane of this.#chargeLanes.values()) void this.#pumpAll(lane);
      }
    } catch {
      this.#startFallback();
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
