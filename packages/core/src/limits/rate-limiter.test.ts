import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InMemoryRateLimiter, type RateLimiter, scopedLimiter } from './rate-limiter.js';

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
