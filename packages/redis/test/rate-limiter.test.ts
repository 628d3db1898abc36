import { InMemoryRateLimiter, type RateLimiter, TencentIm } from '@imbot/core';
import { type Emulator, startEmulator } from '@imbot/emulator';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RedisRateLimiter } from '../src/index.js';
import { freePort, serverArgs, serverProcess, startRedis } from './redis-server.js';

const TENCENT = { sdkAppId: 1400000000, secretKey: 'redis-limiter-key', admin: 'administrator' };
const LIMIT = 40;

let redis: Awaited<ReturnType<typeof startRedis>>;
let emulator: Emulator;

beforeAll(async () => {
  redis = await startRedis();
  emulator = await startEmulator({ tencent: { ...TENCENT, rateLimit: LIMIT } });
});
afterAll(async () => {
  await emulator.close();
  await redis.shutdown();
});

/** Four "processes" (each its own client and limiter) making `each` calls of one API, 10 at a time. */
async function hammer(limiters: RateLimiter[], each: number): Promise<number[]> {
  const clients = limiters.map(
    (rateLimit) => new TencentIm({ ...TENCENT, baseUrl: emulator.url, rateLimit }),
  );
  const calls = clients.map(() => 0);
  await Promise.all(
    clients.flatMap((client, i) =>
      Array.from({ length: 10 }, async () => {
        while ((calls[i] as number) < each) {
          calls[i] = (calls[i] as number) + 1;
          await client.getAllRobots().catch(() => undefined);
        }
      }),
    ),
  );
  await Promise.all(clients.map((c) => c.close()));
  return calls;
}

/** How much later MONITOR may stamp a script's TIME than the time it read (both Redis's clock). */
const SLACK_MS = 0.05;

/**
 * Watches the commands scripts run on every node of the test Redis, through MONITOR: `stop()` gives
 * each with the time, in ms to the microsecond, at which its script last read TIME, once a sentinel
 * sent after them has come through (so none is still on its way).
 */
async function watchScripts(): Promise<{ stop(): Promise<{ time: number; args: string[] }[]> }> {
  const urls = 'url' in redis.connection ? [redis.connection.url] : redis.connection.nodes;
  const ran: { time: number; args: string[] }[] = [];
  const sentinel = `sentinel-${Math.random()}`;
  const nodes = await Promise.all(
    urls.map(async (url) => {
      const monitor = await new Redis(url).monitor();
      let read = 0;
      let seen!: () => void;
      const sentinelSeen = new Promise<void>((resolve) => {
        seen = resolve;
      });
      monitor.on('monitor', (stamp: string, args: string[], source: string) => {
        if (args[1] === sentinel) seen();
        if (source !== 'lua') return;
        const [seconds, micros] = stamp.split('.');
        const time = Number(seconds) * 1000 + Number(micros) / 1000;
        if (args[0] === 'TIME') read = time;
        else ran.push({ time: read, args });
      });
      return { url, monitor, sentinelSeen };
    }),
  );
  return {
    async stop() {
      for (const { url, monitor, sentinelSeen } of nodes) {
        const client = new Redis(url);
        await client.echo(sentinel);
        client.disconnect();
        await sentinelSeen;
        monitor.disconnect();
      }
      return ran;
    },
  };
}

const jain = (xs: number[]) =>
  xs.reduce((a, b) => a + b, 0) ** 2 / (xs.length * xs.reduce((a, b) => a + b * b, 0));

describe('RedisRateLimiter', () => {
  it('four processes share one budget: no window over the limit, no rejection', async () => {
    // The baseline: four in-memory limiters each spend the whole budget, and the cloud refuses calls.
    emulator.reset();
    await hammer(
      Array.from({ length: 4 }, () => new InMemoryRateLimiter({ limit: LIMIT })),
      LIMIT / 2,
    );
    const baseline = emulator.tencent.rate()['openim_robot_http_svc/get_all_robots'];
    expect(baseline?.rejected).toBeGreaterThan(0);

    // Three windows' worth of calls through the shared budget: every one accepted, none over it.
    emulator.reset();
    const limiters = Array.from(
      { length: 4 },
      () => new RedisRateLimiter({ ...redis.connection, prefix: 'test-share', limit: LIMIT }),
    );
    await hammer(limiters, (3 * LIMIT) / 4);
    const shared = emulator.tencent.rate()['openim_robot_http_svc/get_all_robots'];
    expect(shared).toMatchObject({ accepted: 3 * LIMIT, rejected: 0 });
    expect(shared?.busiestWindow).toBeLessThanOrEqual(LIMIT);
    expect(limiters.every((l) => !l.fallingBack)).toBe(true);
    await Promise.all(limiters.map((l) => l.close()));
  }, 20_000);

  it('shares slots equally between processes, however eagerly each asks', async () => {
    const limiters = Array.from(
      { length: 4 },
      () => new RedisRateLimiter({ ...redis.connection, prefix: 'test-fair', limit: 20, windowMs: 100 }),
    );
    const granted = limiters.map(() => 0);
    // Counted once every process has seen the others (at start-up they arrive one by one): the
    // 400 grants after the first 60, whatever time they take.
    const WARM_UP = 60;
    const COUNTED = 400;
    let total = 0;
    // Process i runs 5 × (i + 1) callers: the eager ones must not win more.
    await Promise.all(
      limiters.flatMap((limiter, i) =>
        Array.from({ length: 5 * (i + 1) }, async () => {
          while (total < WARM_UP + COUNTED) {
            const permit = await limiter.acquire('api');
            total++;
            if (total > WARM_UP && total <= WARM_UP + COUNTED) granted[i] = (granted[i] as number) + 1;
            permit.release();
          }
        }),
      ),
    );
    expect(granted.reduce((a, b) => a + b, 0)).toBe(COUNTED);
    expect(jain(granted)).toBeGreaterThanOrEqual(0.98);
    await Promise.all(limiters.map((l) => l.close()));
  }, 20_000);

  it('counts the live processes and gives each its share of calls per second', async () => {
    const limiters = Array.from(
      { length: 3 },
      () => new RedisRateLimiter({ ...redis.connection, prefix: 'test-live' }),
    );
    await expect.poll(() => limiters.map((l) => l.liveProcesses), { timeout: 3000 }).toEqual([3, 3, 3]);
    expect(limiters[0]?.callsPerSecond()).toBeCloseTo(200 / 3);
    await Promise.all(limiters.map((l) => l.close()));
  });

  it("gives a client's stats() this process's budget in use and its share", async () => {
    const limiter = new RedisRateLimiter({ ...redis.connection, prefix: 'test-stats', limit: LIMIT });
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
    // Timed by Redis, not by this process: the round trip would hide a slot freed a little early.
    const watch = await watchScripts();
    const limiter = new RedisRateLimiter({
      ...redis.connection,
      prefix: 'test-exact',
      limit: 1,
      windowMs: 20,
    });
    let permit = await limiter.acquire('api');
    for (let i = 0; i < 60; i++) {
      permit.release();
      permit = await limiter.acquire('api');
    }
    permit.release();
    await limiter.close();
    const ran = await watch.stop();
    // Each release, and the grant that followed it, as Redis ran them: when each script read TIME,
    // and when the release said the slot frees (its score in the slots set).
    const frees: number[] = [];
    const gaps: number[] = [];
    let released: number | undefined;
    for (const { time, args } of ran) {
      const [command, key, ...rest] = args;
      if (command !== 'ZADD' || !key?.startsWith('test-exact:') || !key.endsWith(':slots')) continue;
      if (rest[0] === 'XX') {
        released = time;
        frees.push(Number(rest[1]) - time);
      } else if (released !== undefined) {
        gaps.push(time - released);
        released = undefined;
      }
    }
    expect(frees).toHaveLength(61);
    expect(gaps).toHaveLength(60);
    expect(Math.min(...frees)).toBeGreaterThanOrEqual(20 - SLACK_MS);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(20 - SLACK_MS);
  });

  it('does not fall back while its client is still connecting (a cluster takes over a second)', async () => {
    const port = await freePort(false);
    // Redis comes up after the heartbeat's interval has come round once (1 s) and before the 2 s
    // connect wait ends: the sentinel is that first tick itself, not a guess at how long it takes.
    const interval = globalThis.setInterval;
    let ticked!: () => void;
    const firstTick = new Promise<void>((resolve) => {
      ticked = resolve;
    });
    let intervals = 0;
    const spy = vi.spyOn(globalThis, 'setInterval').mockImplementation(((beat: () => void, ms: number) => {
      intervals++;
      return interval(() => {
        beat();
        ticked();
      }, ms);
    }) as typeof setInterval);
    const limiter = new RedisRateLimiter({ url: `redis://127.0.0.1:${port}`, prefix: 'test-late' });
    spy.mockRestore();
    expect(intervals).toBe(1);
    const late = serverProcess(serverArgs(port));
    await firstTick;
    await late.start();
    const permit = await limiter.acquire('api');
    expect(limiter.fallingBack).toBe(false);
    permit.release();
    await limiter.close();
    await late.stop();
  });

  it('refuses bad options with a ValidationError naming them', () => {
    const field = (f: string) => expect.objectContaining({ name: 'ValidationError', field: f });
    expect(() => new RedisRateLimiter({} as never)).toThrow(field('options.url'));
    expect(() => new RedisRateLimiter({ url: 'http://x' })).toThrow(field('options.url'));
    expect(() => new RedisRateLimiter({ ...redis.connection, limit: 0 })).toThrow(field('options.limit'));
  });
});

describe('RedisRateLimiter when Redis goes away', () => {
  it('falls back to its share, fails no call, and returns to the shared budget', async () => {
    const limiters = [0, 1].map(
      () => new RedisRateLimiter({ ...redis.connection, prefix: 'test-away', limit: 20, windowMs: 500 }),
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
