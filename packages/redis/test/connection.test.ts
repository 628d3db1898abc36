import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RedisInbox,
  RedisRateLimiter,
  RedisRouteStore,
  RedisSeenStore,
  RedisStreamJournal,
} from '../src/index.js';
import { connectionOf, startRedis } from './redis-server.js';

/**
 * Every imbot Redis class takes the app's own client, an ioredis `Redis` or `Cluster`, or a
 * cluster's node list; bad connections are refused with a ValidationError naming `options.url`.
 */

let redis: Awaited<ReturnType<typeof startRedis>>;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.shutdown();
});

/** The app's own client for this project's Redis: a `Cluster` in the cluster project. */
function appClient(): Redis | Cluster {
  const where = connectionOf(redis.address);
  return 'url' in where ? new Redis(where.url) : new Cluster(where.nodes.map((url) => new URL(url).host));
}

describe('connections', () => {
  it('works through a client the app gives, Redis or Cluster, and leaves it open', async () => {
    const client = appClient();
    // Two stores on the one client: only Redis (not a store's own memory) can tell the second.
    const seen = new RedisSeenStore({ client, prefix: 'test-own-client' });
    const other = new RedisSeenStore({ client, prefix: 'test-own-client' });
    expect(await seen.remember('key-1', 60_000)).toBe(true);
    expect(await other.remember('key-1', 60_000)).toBe(false);
    await other.close();
    const limiter = new RedisRateLimiter({ client, prefix: 'test-own-client', limit: 5 });
    const permit = await limiter.acquire('api');
    permit.release();
    await limiter.close();
    await seen.close();
    expect(await client.ping()).toBe('PONG');
    client.disconnect();
  });

  it('refuses no connection, two at once, and node lists that are not redis:// URLs', () => {
    const field = (f: string) => expect.objectContaining({ name: 'ValidationError', field: f });
    const lazy = new Cluster([{ host: '127.0.0.1', port: 1 }], { lazyConnect: true });
    for (const make of [
      (o: object) => new RedisSeenStore(o as never),
      (o: object) => new RedisRateLimiter(o as never),
      (o: object) => new RedisStreamJournal(o as never),
      (o: object) => new RedisInbox(o as never),
      (o: object) => new RedisRouteStore(o as never),
    ]) {
      expect(() => make({})).toThrow(field('options.url'));
      expect(() => make({ url: 'redis://127.0.0.1:1', nodes: ['redis://127.0.0.1:2'] })).toThrow(
        field('options.url'),
      );
      expect(() => make({ nodes: ['127.0.0.1:7000'] })).toThrow(field('options.nodes.0'));
      expect(() => make({ nodes: [] })).toThrow(field('options.nodes'));
      expect(() => make({ client: {} })).toThrow(field('options.client'));
      expect(() => make({ client: lazy, url: 'redis://127.0.0.1:1' })).toThrow(field('options.url'));
    }
    lazy.disconnect();
  });
});
