import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { busiestWindow, type Emulator, startEmulator } from '@imbot/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisRateLimiter } from '../src/index.js';
import { answerPieces } from './fixtures/group-answer-text.js';
import { startRedis } from './redis-server.js';

/**
 * Per-group budgets shared through Redis: four bot processes (each its own client and its own
 * limiter) stream answers into the same groups, and the cloud's call log shows
 * no second over a group's limit, on a single Redis and on a Cluster (the same file runs in both).
 */

const TENCENT = { sdkAppId: 1400000352, secretKey: 'redis-group-key', admin: 'administrator' };
const RONG = { appKey: 'redis-group-key', appSecret: 'redis-group-secret' };
/** The robot the processes stream as (fixtures/group-answers.ts uses the same). */
const ROBOT = '@RBT#grouped';

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

const fixture = fileURLToPath(new URL('./fixtures/group-answers.ts', import.meta.url));

/**
 * Four bot processes (fixtures/group-answers.ts), each with its own client and `RedisRateLimiter`,
 * streaming `counts[k]` answers each, all starting at one moment; resolves with every finish reason.
 */
async function fourProcesses(cloud: string, prefix: string, counts: number[]): Promise<string[]> {
  // Later than the processes take to start (tsx compiles each), so that they stream at once.
  const startAt = Date.now() + 4000;
  let first = 0;
  const runs = counts.map((count) => {
    const args = [
      fixture,
      cloud,
      emulator.url,
      redis.address,
      prefix,
      String(first),
      String(count),
      String(startAt),
    ];
    first += count;
    const child = spawn(process.execPath, ['--conditions=@imbot/source', '--import', 'tsx', ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    return new Promise<string[]>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (data: Buffer) => {
        out += data.toString();
      });
      child.once('exit', (code) =>
        code === 0 ? resolve(JSON.parse(out) as string[]) : reject(new Error(`exited with ${code}`)),
      );
    });
  });
  return (await Promise.all(runs)).flat();
}

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
    const results = await fourProcesses('tencent', 'test-tencent-group', [8, 8, 7, 7]);
    expect(results).toEqual(Array.from({ length: 30 }, () => 'completed'));
    const calls = emulator.tencent.calls();
    expect(calls.filter((c) => c.errorCode !== undefined && c.errorCode !== 0)).toEqual([]);
    const intoGroup = calls.filter((c) => (c.body as { GroupId?: string }).GroupId === 'shared');
    expect(intoGroup.length).toBeGreaterThan(40);
    expect(
      busiestWindow(
        intoGroup.map((c) => ({ time: c.time, units: 1 })),
        1000,
      ),
    ).toBeLessThanOrEqual(40);
    const shown = emulator.tencent.groupConversation('shared');
    const expected = Array.from({ length: 30 }, (_, i) => answerPieces('tencent', i).join(''));
    expect(shown.map((m) => m.text).sort()).toEqual(expected.sort());
    expect(shown.every((m) => m.state === 'finished')).toBe(true);
  }, 90_000);

  it('keeps 40 RongCloud answers from four processes over 20 groups within 20 group messages a second for the app', async () => {
    emulator.reset();
    const results = await fourProcesses('rongcloud', 'test-rong-groups', [10, 10, 10, 10]);
    expect(results).toEqual(Array.from({ length: 40 }, () => 'completed'));
    const calls = emulator.rongcloud.calls();
    expect(calls.filter((c) => c.status !== 200)).toEqual([]);
    const units = calls.filter((c) => c.api.includes('/group/')).map((c) => ({ time: c.time, units: 1 }));
    expect(units.length).toBeGreaterThan(20);
    expect(busiestWindow(units, 1000)).toBeLessThanOrEqual(20);
    for (let i = 0; i < 40; i++) {
      expect(emulator.rongcloud.groupConversation(`g${i % 20}`)).toContainEqual(
        expect.objectContaining({ text: answerPieces('rongcloud', i).join(''), state: 'finished' }),
      );
    }
  }, 90_000);
});
