import { seededRandom } from '@imbot/emulator';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InMemoryRateLimiter, type RateLimiter, RoundTripFloor, scopedLimiter } from './rate-limiter.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** Most arrivals in any half-open window (t - windowMs, t]. */
function busiestWindow(arrivals: number[], windowMs: number): number {
  const sorted = [...arrivals].sort((a, b) => a - b);
  let most = 0;
  let from = 0;
  for (let to = 0; to < sorted.length; to++) {
    while ((sorted[from] as number) <= (sorted[to] as number) - windowMs) from++;
    most = Math.max(most, to - from + 1);
  }
  return most;
}

describe('InMemoryRateLimiter', () => {
  it('lets a burst up to the limit through at once', async () => {
    const limiter = new InMemoryRateLimiter({ limit: 200, now: () => Date.now() });
    const permits = await Promise.all(Array.from({ length: 200 }, () => limiter.acquire('api')));
    expect(permits).toHaveLength(200);
    expect(limiter.inUse('api')).toBe(200);
  });

  it('holds the next call until a slot has been free for a whole window after its call completed', async () => {
    const limiter = new InMemoryRateLimiter({ limit: 2, windowMs: 1000, now: () => Date.now() });
    const first = await limiter.acquire('api');
    await limiter.acquire('api');
    let third = false;
    void limiter.acquire('api').then(() => {
      third = true;
    });
    await vi.advanceTimersByTimeAsync(300);
    first.release(); // completed at t=300: its slot frees at t=1300
    await vi.advanceTimersByTimeAsync(999);
    expect(third).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(third).toBe(true);
  });

  it('keeps a budget per key', async () => {
    const limiter = new InMemoryRateLimiter({ limit: 1, now: () => Date.now() });
    await limiter.acquire('a');
    let granted = false;
    void limiter.acquire('b').then(() => {
      granted = true;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(granted).toBe(true);
    expect(limiter.inUse('a')).toBe(1);
  });

  it('serves waiters in arrival order', async () => {
    const limiter = new InMemoryRateLimiter({ limit: 1, windowMs: 10, now: () => Date.now() });
    const order: number[] = [];
    const held = await limiter.acquire('api');
    const waiting = [1, 2, 3].map((n) =>
      limiter.acquire('api').then((permit) => {
        order.push(n);
        permit.release();
      }),
    );
    held.release();
    await vi.runAllTimersAsync();
    await Promise.all(waiting);
    expect(order).toEqual([1, 2, 3]);
  });

  it('rejects a waiter whose signal aborts, and gives its turn to the next', async () => {
    const limiter = new InMemoryRateLimiter({ limit: 1, windowMs: 10, now: () => Date.now() });
    const held = await limiter.acquire('api');
    const controller = new AbortController();
    const aborted = limiter.acquire('api', controller.signal);
    const next = limiter.acquire('api');
    controller.abort(new Error('gave up'));
    await expect(aborted).rejects.toThrow('gave up');
    held.release();
    await vi.advanceTimersByTimeAsync(10);
    await expect(next).resolves.toBeDefined();
  });

  it('never lets more than `limit` calls arrive in any window, however long each waits or takes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }),
        fc.array(
          fc.record({
            startsAt: fc.integer({ min: 0, max: 2000 }),
            takes: fc.integer({ min: 0, max: 400 }),
            // Where between leaving the limiter and completing the call reaches the server.
            arrivesAt: fc.double({ min: 0, max: 1, noNaN: true }),
          }),
          { maxLength: 40 },
        ),
        async (limit, calls) => {
          vi.useFakeTimers();
          const windowMs = 100;
          const limiter = new InMemoryRateLimiter({ limit, windowMs, now: () => Date.now() });
          const origin = Date.now();
          const arrivals: number[] = [];
          const done = calls.map(
            (call) =>
              new Promise<void>((resolve) => {
                setTimeout(async () => {
                  const permit = await limiter.acquire('api');
                  const granted = Date.now() - origin;
                  arrivals.push(granted + call.arrivesAt * call.takes);
                  setTimeout(() => {
                    permit.release();
                    resolve();
                  }, call.takes);
                }, call.startsAt);
              }),
          );
          await vi.runAllTimersAsync();
          await Promise.all(done);
          expect(arrivals).toHaveLength(calls.length);
          expect(busiestWindow(arrivals, windowMs)).toBeLessThanOrEqual(limit);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('the round-trip rule', () => {
  it('frees a slot one window after the answer less the learnt floor, once it has learnt', async () => {
    const limiter = new InMemoryRateLimiter({ limit: 1, windowMs: 1000, now: () => Date.now() });
    // Calls of exactly 100 ms: the first 256 are not learnt from, the next 16 are kept; until then
    // each frees its slot a whole window after its answer.
    for (let i = 0; i < 272; i++) {
      const permit = await limiter.acquire('api');
      await vi.advanceTimersByTimeAsync(100);
      permit.release(100);
      // No spread above the fastest: the floor is the fastest less the 1 ms margin.
      expect(limiter.floorRoundTripMs).toBe(i === 271 ? 99 : 0);
      await vi.advanceTimersByTimeAsync(1000);
    }
    const permit = await limiter.acquire('api');
    await vi.advanceTimersByTimeAsync(100);
    permit.release(100);
    let next = false;
    void limiter.acquire('api').then(() => {
      next = true;
    });
    await vi.advanceTimersByTimeAsync(900);
    expect(next).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(next).toBe(true);
  });

  it('keeps the answer-bound rule for a call without an answer, and when told the floor is 0', async () => {
    const fixed = new InMemoryRateLimiter({
      limit: 100,
      windowMs: 1000,
      floorRoundTripMs: 0,
      now: () => Date.now(),
    });
    for (let i = 0; i < 40; i++) (await fixed.acquire('api')).release(100);
    expect(fixed.floorRoundTripMs).toBe(0);
    const pinned = new InMemoryRateLimiter({
      limit: 1,
      windowMs: 1000,
      floorRoundTripMs: 80,
      now: () => Date.now(),
    });
    (await pinned.acquire('api')).release();
    let next = false;
    void pinned.acquire('api').then(() => {
      next = true;
    });
    await vi.advanceTimersByTimeAsync(999);
    expect(next).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(next).toBe(true);
  });

  it('frees a slot with a shorter hold first, even when it was released after one with a longer hold', async () => {
    const limiter = new InMemoryRateLimiter({
      limit: 2,
      windowMs: 1000,
      floorRoundTripMs: 500,
      now: () => Date.now(),
    });
    const unanswered = await limiter.acquire('api');
    const answered = await limiter.acquire('api');
    unanswered.release(); // frees at t = 1000
    await vi.advanceTimersByTimeAsync(10);
    answered.release(5); // frees at t = 510
    let next = false;
    void limiter.acquire('api').then(() => {
      next = true;
    });
    await vi.advanceTimersByTimeAsync(499);
    expect(next).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(next).toBe(true);
    expect(limiter.inUse('api')).toBe(2);
  });

  it('learns a floor below every round trip drawn, from the fastest less the spread above it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 500 }),
        fc.integer({ min: 0, max: 200 }),
        fc.integer(),
        (floor, spread, seed) => {
          const random = seededRandom(seed);
          const learnt = new RoundTripFloor();
          for (let i = 0; i < 600; i++) {
            learnt.observe(floor + random() * spread);
            expect(learnt.floorMs).toBeLessThanOrEqual(floor);
          }
          expect(learnt.floorMs).toBeGreaterThanOrEqual(Math.max(0, floor - spread / 2 - 1));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never lets more than `limit` calls arrive in any window, whatever the split of the round trip', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          limit: fc.integer({ min: 5, max: 30 }),
          // Each leg's fastest trip (the split) and how much it may take beyond that (the jitter).
          outMs: fc.integer({ min: 0, max: 300 }),
          backMs: fc.integer({ min: 0, max: 300 }),
          outJitterMs: fc.integer({ min: 0, max: 80 }),
          backJitterMs: fc.integer({ min: 0, max: 80 }),
          // Some answers never come back: those calls are released without a round trip.
          lostShare: fc.constantFrom(0, 0, 0.05),
          callers: fc.integer({ min: 1, max: 3 }),
          seed: fc.integer(),
        }),
        async (c) => {
          vi.useFakeTimers({ loopLimit: 1_000_000 });
          const windowMs = 1000;
          const random = seededRandom(c.seed);
          const limiter = new InMemoryRateLimiter({ limit: c.limit, windowMs, now: () => Date.now() });
          const origin = Date.now();
          const arrivals: number[] = [];
          // Long enough for the limiter to learn the floor (272 answers) and then use it.
          const until = origin + Math.ceil(900 / c.limit + 4) * windowMs;
          // Callers that always want to call: the limiter alone decides when they may.
          const caller = async () => {
            while (Date.now() < until) {
              const permit = await limiter.acquire('api');
              const sentAt = Date.now();
              const out = c.outMs + random() * c.outJitterMs;
              const back = c.backMs + random() * c.backJitterMs;
              await new Promise((resolve) => setTimeout(resolve, out));
              arrivals.push(Date.now() - origin);
              await new Promise((resolve) => setTimeout(resolve, back));
              permit.release(random() < c.lostShare ? undefined : Date.now() - sentAt);
            }
          };
          const running = Promise.all(Array.from({ length: c.limit * c.callers }, caller));
          await vi.runAllTimersAsync();
          await running;
          expect(arrivals.length).toBeGreaterThan(c.limit * 4);
          expect(busiestWindow(arrivals, windowMs)).toBeLessThanOrEqual(c.limit);
          // The rule under test was in use: a floor well above the jitter was learnt.
          if (c.lostShare === 0 && c.outMs + c.backMs > 2 * (c.outJitterMs + c.backJitterMs) + 2) {
            expect(limiter.floorRoundTripMs).toBeGreaterThan(0);
          }
        },
      ),
      { numRuns: 60 },
    );
  }, 60_000);
});

describe('scopedLimiter', () => {
  it('keeps one budget per app when apps share a limiter: each key names the app', async () => {
    const keys: string[] = [];
    const shared: RateLimiter = {
      acquire: async (key) => {
        keys.push(key);
        return { release() {} };
      },
      callsPerSecond: (key) => (key.startsWith('tencent:1') ? 200 : 100),
    };
    const one = scopedLimiter(shared, 'tencent:1');
    const two = scopedLimiter(shared, 'tencent:2');
    await one.acquire('send_stream_msg');
    await two.acquire('send_stream_msg');
    expect(keys).toEqual(['tencent:1/send_stream_msg', 'tencent:2/send_stream_msg']);
    expect([one.callsPerSecond?.('x'), two.callsPerSecond?.('x')]).toEqual([200, 100]);
  });
});

describe('InMemoryRateLimiter.acquireAll', () => {
  const api = (limit = 200) => ({ key: 'api', units: 1, limit, windowMs: 1000 });
  const group = (id: string, limit = 2, units = 1) => ({ key: `group:${id}`, units, limit, windowMs: 1000 });
  const flag = (promise: Promise<unknown>) => {
    const state = { granted: false };
    void promise.then(() => {
      state.granted = true;
    });
    return state;
  };

  it('takes a unit of every budget in one step', async () => {
    const limiter = new InMemoryRateLimiter({ limit: 200, now: () => Date.now() });
    await limiter.acquireAll([api(), group('g1')]);
    expect([limiter.inUse('api'), limiter.inUse('group:g1')]).toEqual([1, 1]);
  });

  it('takes none while any budget is short, and all once it frees', async () => {
    const limiter = new InMemoryRateLimiter({ limit: 200, now: () => Date.now() });
    const held = await limiter.acquireAll([api(), group('g1', 1)]);
    const next = flag(limiter.acquireAll([api(), group('g1', 1)]));
    await vi.advanceTimersByTimeAsync(0);
    expect(next.granted).toBe(false);
    // Waiting for the group, it holds nothing of the API's budget.
    expect(limiter.inUse('api')).toBe(1);
    held.release(); // completed at t=0: the group's slot frees at t=1000
    await vi.advanceTimersByTimeAsync(999);
    expect(next.granted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(next.granted).toBe(true);
    // The first call's slots have cooled; the second holds one of each.
    expect([limiter.inUse('api'), limiter.inUse('group:g1')]).toEqual([1, 1]);
  });

  it('lets other groups through while one group waits: no head-of-line blocking on the API', async () => {
    const limiter = new InMemoryRateLimiter({ limit: 200, now: () => Date.now() });
    await limiter.acquireAll([api(), group('busy', 1)]);
    const blocked = flag(limiter.acquireAll([api(), group('busy', 1)]));
    const other = flag(limiter.acquireAll([api(), group('quiet', 1)]));
    await vi.advanceTimersByTimeAsync(0);
    expect([blocked.granted, other.granted]).toEqual([false, true]);
  });

  it('moves a caller whose API turn came to the queue of the group still short, and serves the API queue on', async () => {
    const limiter = new InMemoryRateLimiter({ limit: 200, now: () => Date.now() });
    const apiHeld = await limiter.acquireAll([api(1)]);
    const groupHeld = await limiter.acquireAll([group('g1', 1)]);
    const inGroup = flag(limiter.acquireAll([api(1), group('g1', 1)]));
    const elsewhere = flag(limiter.acquireAll([api(1), group('g2', 1)]));
    apiHeld.release();
    await vi.advanceTimersByTimeAsync(1000);
    // The API slot freed: g1's caller found g1 still held and stepped aside; g2's caller took it.
    expect([inGroup.granted, elsewhere.granted]).toEqual([false, true]);
    groupHeld.release();
    await vi.advanceTimersByTimeAsync(1000);
    // g1 is free now, the API slot is g2's until it completes: it waits for the API, holding no g1 slot.
    expect([inGroup.granted, limiter.inUse('group:g1')]).toEqual([false, 0]);
  });

  it('counts units: a call worth 3 units takes 3 slots, and waits for 3 free', async () => {
    const limiter = new InMemoryRateLimiter({ limit: 200, now: () => Date.now() });
    const first = await limiter.acquireAll([group('app', 5, 3)]);
    const second = flag(limiter.acquireAll([group('app', 5, 3)]));
    await vi.advanceTimersByTimeAsync(0);
    expect([limiter.inUse('group:app'), second.granted]).toEqual([3, false]);
    first.release();
    await vi.advanceTimersByTimeAsync(1000);
    expect([limiter.inUse('group:app'), second.granted]).toEqual([3, true]);
  });

  it("caps a budget of its window by the limiter's own limit", async () => {
    const limiter = new InMemoryRateLimiter({ limit: 1, now: () => Date.now() });
    await limiter.acquireAll([api(200)]);
    expect(limiter.tryAcquireAll([api(200)])).toBeUndefined();
  });

  it('tryAcquireAll takes nothing when a budget is short or has callers waiting', async () => {
    const limiter = new InMemoryRateLimiter({ limit: 200, now: () => Date.now() });
    await limiter.acquireAll([group('g1', 1)]);
    expect(limiter.tryAcquireAll([api(), group('g1', 1)])).toBeUndefined();
    expect(limiter.inUse('api')).toBe(0);
    expect(limiter.tryAcquireAll([api(), group('g2', 1)])).toBeDefined();
  });

  it('an aborted caller leaves the queue it waits in', async () => {
    const limiter = new InMemoryRateLimiter({ limit: 200, now: () => Date.now() });
    const held = await limiter.acquireAll([group('g1', 1)]);
    const abort = new AbortController();
    const waiting = limiter.acquireAll([api(), group('g1', 1)], abort.signal);
    abort.abort(new Error('gone'));
    await expect(waiting).rejects.toThrow('gone');
    held.release();
    await vi.advanceTimersByTimeAsync(1000);
    expect([limiter.inUse('api'), limiter.inUse('group:g1')]).toEqual([0, 0]);
  });
});
