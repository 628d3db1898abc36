import { RongCloud, type StreamSession, TencentIm } from '@imbot/core';
import { type Emulator, startEmulator } from '@imbot/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisRateLimiter } from '../src/index.js';
import { startRedis } from './redis-server.js';

/**
 * Per-group budgets shared through Redis: four "processes" (each its own client and its own
 * limiter, so Redis sees four) stream answers into the same groups, and the cloud's call log shows
 * no second over a group's limit, on a single Redis and on a Cluster (the same file runs in both).
 */

const TENCENT = { sdkAppId: 1400000352, secretKey: 'redis-group-key', admin: 'administrator' };
const RONG = { appKey: 'redis-group-key', appSecret: 'redis-group-secret' };
const ROBOT = '@RBT#grouped';
const BOT = 'bot-grouped';

let redis: Awaited<ReturnType<typeof startRedis>>;
let emulator: Emulator;

beforeAll(async () => {
  redis = await startRedis();
  emulator = await startEmulator({ tencent: { ...TENCENT, robots: [ROBOT] }, rongcloud: RONG });
}, 60_000);
afterAll(async () => {
  await emulator.close();
  await redis.shutdown();
});

/** The most units arriving within any window of `windowMs`. */
function peakUnits(calls: readonly { time: number; units: number }[], windowMs: number): number {
  const sorted = [...calls].sort((a, b) => a.time - b.time);
  let peak = 0;
  let sum = 0;
  let from = 0;
  for (const call of sorted) {
    sum += call.units;
    while ((sorted[from] as { time: number }).time <= call.time - windowMs) {
      sum -= (sorted[from] as { units: number }).units;
      from++;
    }
    peak = Math.max(peak, sum);
  }
  return peak;
}

async function answer(session: StreamSession, pieces: readonly string[]): Promise<unknown> {
  for (const piece of pieces) {
    session.write(piece);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return session.end();
}

const piecesOf = (label: string, n: number) => Array.from({ length: n }, (_, i) => `${label} piece ${i}. `);
const limiters = (prefix: string) =>
  Array.from({ length: 4 }, () => new RedisRateLimiter({ ...redis.connection, prefix }));

describe('RedisRateLimiter: budgets per group, shared by every process', () => {
  it('takes every budget or none: a call waiting for its group holds no slot of its API', async () => {
    const [limiter] = limiters('test-all-or-nothing') as [RedisRateLimiter];
    const api = { key: 'app/api', units: 1, limit: 2, windowMs: 1000 };
    const group = (id: string) => ({ key: `app/group:${id}`, units: 1, limit: 1, windowMs: 1000 });
    const first = await limiter.acquireAll([api, group('g1')]);
    let secondGranted = false;
    const second = limiter.acquireAll([api, group('g1')]).then((permit) => {
      secondGranted = true;
      return permit;
    });
    // The API's second slot is free for another group: the waiting g1 call took none of it.
    const other = await limiter.acquireAll([api, group('g2')]);
    expect(secondGranted).toBe(false);
    first.release();
    other.release();
    (await second).release();
    await limiter.close();
  }, 20_000);

  it('keeps 30 answers from four processes streaming into one Tencent group within 40 calls a second', async () => {
    emulator.reset();
    emulator.tencent.createGroup({ groupId: 'shared', type: 'Public', members: [ROBOT] });
    const shared = limiters('test-tencent-group');
    const clients = shared.map(
      (rateLimit) => new TencentIm({ ...TENCENT, baseUrl: emulator.url, rateLimit }),
    );
    const labels = Array.from({ length: 30 }, (_, i) => `answer ${i}`);
    const results = await Promise.all(
      labels.map((label, i) =>
        answer(
          (clients[i % 4] as TencentIm).openStream({ from: ROBOT, groupId: 'shared' }, { minIntervalMs: 0 }),
          piecesOf(label, 30),
        ),
      ),
    );
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(shared.map((l) => l.close()));
    expect(results).toEqual(labels.map(() => expect.objectContaining({ reason: 'completed' })));
    const calls = emulator.tencent.calls();
    expect(calls.filter((c) => c.errorCode !== undefined && c.errorCode !== 0)).toEqual([]);
    const intoGroup = calls.filter((c) => (c.body as { GroupId?: string }).GroupId === 'shared');
    expect(intoGroup.length).toBeGreaterThan(40);
    expect(
      peakUnits(
        intoGroup.map((c) => ({ time: c.time, units: 1 })),
        1000,
      ),
    ).toBeLessThanOrEqual(40);
    const shown = emulator.tencent.groupConversation('shared');
    expect(shown.map((m) => m.text).sort()).toEqual(labels.map((l) => piecesOf(l, 30).join('')).sort());
    expect(shown.every((m) => m.state === 'finished')).toBe(true);
  }, 60_000);

  it('keeps 40 RongCloud answers from four processes over 20 groups within 20 group messages a second for the app', async () => {
    emulator.reset();
    const shared = limiters('test-rong-groups');
    const clients = shared.map((rateLimit) => new RongCloud({ ...RONG, baseUrl: emulator.url, rateLimit }));
    const jobs = Array.from({ length: 40 }, (_, i) => ({ groupId: `g${i % 20}`, label: `reply ${i}` }));
    const results = await Promise.all(
      jobs.map(({ groupId, label }, i) =>
        answer(
          (clients[i % 4] as RongCloud).openStream({ from: BOT, groupId }, { minIntervalMs: 0 }),
          piecesOf(label, 10),
        ),
      ),
    );
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(shared.map((l) => l.close()));
    expect(results).toEqual(jobs.map(() => expect.objectContaining({ reason: 'completed' })));
    const calls = emulator.rongcloud.calls();
    expect(calls.filter((c) => c.status !== 200)).toEqual([]);
    const units = calls.filter((c) => c.api.includes('/group/')).map((c) => ({ time: c.time, units: 1 }));
    expect(units.length).toBeGreaterThan(20);
    expect(peakUnits(units, 1000)).toBeLessThanOrEqual(20);
    for (const { groupId, label } of jobs) {
      expect(emulator.rongcloud.groupConversation(groupId)).toContainEqual(
        expect.objectContaining({ text: piecesOf(label, 10).join(''), state: 'finished' }),
      );
    }
  }, 60_000);
});
