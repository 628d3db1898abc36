import { InMemoryRateLimiter, type RateLimiter, TencentIm } from '@imbot/core';
import { type Emulator, startEmulator } from '@imbot/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisRateLimiter } from '../src/index.js';
import { type RedisServer, startRedis } from './redis-server.js';

const TENCENT = { sdkAppId: 1400000000, secretKey: 'redis-limiter-key', admin: 'administrator' };
const LIMIT = 40;

let redis: RedisServer;
let emulator: Emulator;

beforeAll(async () => {
  redis = await startRedis();
  emulator = await startEmulator({ tencent: { ...TENCENT, rateLimit: LIMIT } });
});
afterAll(async () => {
  await emulator.close();
  await redis.stop();
});

/** Four "processes" (each its own client and limiter) calling one API as fast as they may. */
async function hammer(limiters: RateLimiter[], ms: number): Promise<number[]> {
  const clients = limiters.map(
    (rateLimit) => new TencentIm({ ...TENCENT, baseUrl: emulator.url, rateLimit }),
  );
  const until = Date.now() + ms;
  const calls = clients.map(() => 0);
  await Promise.all(
    clients.flatMap((client, i) =>
      Array.from({ length: 20 }, async () => {
        while (Date.now() < until) {
          await client.getAllRobots().catch(() => undefined);
          calls[i] = (calls[i] as number) + 1;
        }
      }),
    ),
  );
  await Promise.all(clients.map((c) => c.close()));
  return calls;
}

const jain = (xs: number[]) =>
  xs.reduce((a, b) => a + b, 0) ** 2 / (xs.length * xs.reduce((a, b) => a + b * b, 0));

describe('RedisRateLimiter', () => {
  it('four processes share one budget: no window over the limit, no rejection, the budget used, fairly', async () => {
    // The baseline: four in-memory limiters each spend the whole budget, and the cloud refuses calls.
    emulator.reset();
    await hammer(
      Array.from({ length: 4 }, () => new InMemoryRateLimiter({ limit: LIMIT })),
      1500,
    );
    const baseline = emulator.tencent.rate()['openim_robot_http_svc/get_all_robots'];
    expect(baseline?.rejected).toBeGreaterThan(0);

    emulator.reset();
    const limiters = Array.from(
      { length: 4 },
      () => new RedisRateLimiter({ url: redis.url, prefix: 'test-share', limit: LIMIT }),
    );
    const calls = await hammer(limiters, 3000);
    const shared = emulator.tencent.rate()['openim_robot_http_svc/get_all_robots'];
    expect(shared?.rejected).toBe(0);
    expect(shared?.busiestWindow).toBeLessThanOrEqual(LIMIT);
    // At least 90 % of the budget over the run (3 s, the first window's burst included).
    expect(shared?.accepted).toBeGreaterThanOrEqual(0.9 * LIMIT * 3);
    // Coarse over 3 s of a 1 s window (slots free in bursts); the next test measures fairness finely.
    expect(jain(calls)).toBeGreaterThanOrEqual(0.9);
    expect(limiters.every((l) => !l.fallingBack)).toBe(true);
    await Promise.all(limiters.map((l) => l.close()));
  }, 20_000);

  it('shares slots equally between processes, however eagerly each asks', async () => {
    const limiters = Array.from(
      { length: 4 },
      () => new RedisRateLimiter({ url: redis.url, prefix: 'test-fair', limit: 20, windowMs: 100 }),
    );
    const granted = limiters.map(() => 0);
    // Counted after half a second, once every process has seen the others (as at start-up they
    // arrive one by one), for three seconds.
    const from = Date.now() + 500;
    const until = from + 3000;
    // Process i runs 5 × (i + 1) callers: the eager ones must not win more.
    await Promise.all(
      limiters.flatMap((limiter, i) =>
        Array.from({ length: 5 * (i + 1) }, async () => {
          while (Date.now() < until) {
            const permit = await limiter.acquire('api');
            if (Date.now() >= from) granted[i] = (granted[i] as number) + 1;
            permit.release();
          }
        }),
      ),
    );
    expect(jain(granted)).toBeGreaterThanOrEqual(0.98);
    await Promise.all(limiters.map((l) => l.close()));
  }, 10_000);

  it('counts the live processes and gives each its share of calls per second', async () => {
    const limiters = Array.from(
      { length: 3 },
      () => new RedisRateLimiter({ url: redis.url, prefix: 'test-live' }),
    );
    await expect.poll(() => limiters.map((l) => l.liveProcesses), { timeout: 3000 }).toEqual([3, 3, 3]);
    expect(limiters[0]?.callsPerSecond()).toBeCloseTo(200 / 3);
    await Promise.all(limiters.map((l) => l.close()));
  });

  it("gives a client's stats() this process's budget in use and its share", async () => {
    const limiter = new RedisRateLimiter({ url: redis.url, prefix: 'test-stats', limit: LIMIT });
    const client = new TencentIm({ ...TENCENT, baseUrl: emulator.url, rateLimit: limiter });
    for (let i = 0; i < 5; i++) await client.getAllRobots();
    expect(client.stats().apis['openim_robot_http_svc/get_all_robots']).toMatchObject({
      ok: 5,
      budget: { inUse: 5, perSecond: LIMIT },
    });
    await client.close();
    await limiter.close();
  });

  it('frees a slot no sooner than a window after its release, to the microsecond', async () => {
    const limiter = new RedisRateLimiter({ url: redis.url, prefix: 'test-exact', limit: 1, windowMs: 20 });
    const gaps: number[] = [];
    let permit = await limiter.acquire('api');
    for (let i = 0; i < 60; i++) {
      const releasedBefore = performance.now();
      permit.release();
      permit = await limiter.acquire('api');
      // Redis freed the slot at most this long after it took the release: never under the window.
      gaps.push(performance.now() - releasedBefore);
    }
    permit.release();
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(20);
    await limiter.close();
  });

  it('refuses bad options with a ValidationError naming them', () => {
    const field = (f: string) => expect.objectContaining({ name: 'ValidationError', field: f });
    expect(() => new RedisRateLimiter({} as never)).toThrow(field('options.url'));
    expect(() => new RedisRateLimiter({ url: 'http://x' })).toThrow(field('options.url'));
    expect(() => new RedisRateLimiter({ url: redis.url, limit: 0 })).toThrow(field('options.limit'));
  });
});

describe('RedisRateLimiter when Redis goes away', () => {
  it('falls back to its share, fails no call, and returns to the shared budget', async () => {
    const limiters = [0, 1].map(
      () => new RedisRateLimiter({ url: redis.url, prefix: 'test-away', limit: 20, windowMs: 500 }),
    );
    await expect.poll(() => limiters.map((l) => l.liveProcesses), { timeout: 3000 }).toEqual([2, 2]);
    let failed = 0;
    let granted = 0;
    let running = true;
    const workers = limiters.flatMap((limiter) =>
      Array.from({ length: 10 }, async () => {
        while (running) {
          try {
            const permit = await limiter.acquire('api');
            granted++;
            permit.release();
          } catch {
            failed++;
          }
        }
      }),
    );
    await expect.poll(() => granted).toBeGreaterThan(20);
    await redis.stop();
    await expect.poll(() => limiters.every((l) => l.fallingBack), { timeout: 5000 }).toBe(true);
    const before = granted;
    await expect.poll(() => granted, { timeout: 5000 }).toBeGreaterThan(before + 20);
    await redis.start();
    await expect.poll(() => limiters.every((l) => !l.fallingBack), { timeout: 8000 }).toBe(true);
    const back = granted;
    await expect.poll(() => granted, { timeout: 5000 }).toBeGreaterThan(back + 20);
    running = false;
    await Promise.all(workers);
    expect(failed).toBe(0);
    await Promise.all(limiters.map((l) => l.close()));
  }, 30_000);
});
