import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { RongCloud, receiveNodeRequest, TencentIm, WebhookPipeline } from '@imbot/core';
import { type Emulator, startEmulator } from '@imbot/emulator';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisRouteStore, RedisStreamJournal } from '../src/index.js';
import { connectionOf, startRedis } from './redis-server.js';

const COUNT = 10;
const LEASE_MS = 2000;
const fixture = fileURLToPath(new URL('./fixtures/streamer.ts', import.meta.url));

let redis: Awaited<ReturnType<typeof startRedis>>;

/** A bot process that opens COUNT streams of `kind` with a journal (fixtures/streamer.ts); kill it to test takeover. */
function streamer(kind: string, stdout: 'pipe' | 'ignore') {
  const args = [fixture, kind, emulator.url, redis.address, String(COUNT), String(LEASE_MS)];
  return spawn(process.execPath, ['--conditions=@imbot/source', '--import', 'tsx', ...args], {
    stdio: ['ignore', stdout, 'inherit'],
  });
}
let emulator: Emulator;

beforeAll(async () => {
  redis = await startRedis();
  emulator = await startEmulator({
    tencent: {
      sdkAppId: 1400000000,
      secretKey: 'journal-key',
      admin: 'administrator',
      robots: ['@RBT#journal'],
    },
    rongcloud: { appKey: 'journal-app', appSecret: 'journal-secret' },
  });
  const rong = new RongCloud({ appKey: 'journal-app', appSecret: 'journal-secret', baseUrl: emulator.url });
  await rong.createBot({
    userId: 'journal-bot',
    name: 'Journal',
    type: 'bot',
    profileUrl: '',
    integrations: [],
  });
  await rong.close();
});
afterAll(async () => {
  await emulator.close();
  await redis.shutdown();
});

describe.each(['tencent', 'tencent-tuikit', 'rongcloud'] as const)('RedisStreamJournal on %s', (kind) => {
  // The TUIKit format is Tencent's, through a custom message the survivor rewrites.
  const cloud = kind === 'rongcloud' ? 'rongcloud' : 'tencent';
  it('closes every message of a process killed mid-stream, from a surviving process, within 20 s', async () => {
    const journal = new RedisStreamJournal({
      ...redis.connection,
      prefix: 'test-journal',
      leaseMs: LEASE_MS,
    });
    // The surviving process: a client of the same app with the journal, and nothing streaming.
    const survivor =
      cloud === 'tencent'
        ? new TencentIm({
            sdkAppId: 1400000000,
            admin: 'administrator',
            secretKey: 'journal-key',
            baseUrl: emulator.url,
            journal,
          })
        : new RongCloud({
            appKey: 'journal-app',
            appSecret: 'journal-secret',
            baseUrl: emulator.url,
            journal,
          });
    const emulated = cloud === 'tencent' ? emulator.tencent : emulator.rongcloud;
    const bot = cloud === 'tencent' ? '@RBT#journal' : 'journal-bot';
    // The latest reply to each user: the same users are answered on each cloud and in each format.
    const replies = () =>
      Array.from({ length: COUNT }, (_, i) =>
        emulated
          .conversation(`user${i}`, bot)
          .filter((m) => m.from === bot)
          .at(-1),
      );

    const child = streamer(kind, 'pipe');
    try {
      let out = '';
      child.stdout?.on('data', (data: Buffer) => {
        out += data.toString();
      });
      await expect.poll(() => out, { timeout: 15_000 }).toContain('open');
      expect(replies().every((m) => m?.state === 'streaming')).toBe(true);
      child.kill('SIGKILL');
      await once(child, 'exit');
      const killed = Date.now();
      await expect
        .poll(() => replies().every((m) => m?.state === 'finished'), { timeout: 20_000, interval: 100 })
        .toBe(true);
      expect(Date.now() - killed).toBeLessThan(20_000);
      for (const reply of replies()) expect(reply?.text).toBe('Half an answer, then the process dies …');
    } finally {
      child.kill('SIGKILL');
      await survivor.close();
      await journal.close();
    }
  }, 45_000);
});

describe.each(['tencent', 'tencent-stream_msg', 'tencent-tuikit', 'rongcloud-routed'] as const)(
  'RedisStreamJournal on %s',
  (kind) => {
    it('closes the message a process opened and died before hearing of, found in the history or by its route', async () => {
      const journal = new RedisStreamJournal({
        ...redis.connection,
        prefix: 'test-journal',
        leaseMs: LEASE_MS,
      });
      const rong = kind === 'rongcloud-routed';
      // On RongCloud, routes go to this process's receiver and are kept in Redis, where the survivor looks.
      const routes = new RedisRouteStore({ ...redis.connection, prefix: 'test-journal' });
      const survivor = rong
        ? new RongCloud({
            appKey: 'journal-app',
            appSecret: 'journal-secret',
            baseUrl: emulator.url,
            journal,
            messageRouting: true,
            routes,
          })
        : new TencentIm({
            sdkAppId: 1400000000,
            admin: 'administrator',
            secretKey: 'journal-key',
            baseUrl: emulator.url,
            journal,
          });
      // Tencent's callbacks are not used here: a Tencent survivor's receiver is never called.
      const pipeline = new WebhookPipeline({
        platform: survivor.platform,
        unsignedWebhooks: !rong,
      });
      const receiver = createServer((req, res) => void receiveNodeRequest(pipeline, req, res));
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      // Every first call is applied, and its answer takes a minute: the process dies before it comes.
      const api = rong
        ? '/v3/message/private/publish_stream.json'
        : kind === 'tencent'
          ? 'openim_robot_http_svc/send_stream_msg'
          : kind === 'tencent-tuikit'
            ? 'openim/sendmsg'
            : 'stream_msg/send_c2c_stream_msg';
      emulator.reset();
      const { port } = receiver.address() as AddressInfo;
      emulator.rongcloud.setMessageRouting({ url: `http://127.0.0.1:${port}/`, serverApi: true });
      emulator.faults.configure({ latencyMs: 60_000, latencySplit: 'after', apis: [api] });
      const users = Array.from({ length: COUNT }, (_, i) => `user${i}`);
      const replies = () =>
        users.map((user) =>
          rong
            ? emulator.rongcloud.conversation(user, 'journal-bot').at(-1)
            : emulator.tencent.conversation(user, '@RBT#journal').at(-1),
        );
      const where = connectionOf(redis.address);
      const client = 'url' in where ? new Redis(where.url) : new Cluster(where.nodes);
      const openings = async () =>
        (await client.zrange('test-journal:journal:{messages}:leases', '0', '-1')).filter((id) =>
          id.includes('/opening:'),
        );
      const child = streamer(kind, 'ignore');
      try {
        await expect
          .poll(() => replies().every((m) => m?.state === 'streaming'), { timeout: 15_000 })
          .toBe(true);
        await expect.poll(openings, { timeout: 5_000 }).toHaveLength(COUNT);
        child.kill('SIGKILL');
        await once(child, 'exit');
        emulator.faults.configure({});
        await expect
          .poll(() => replies().every((m) => m?.state === 'finished'), { timeout: 20_000, interval: 100 })
          .toBe(true);
        for (const reply of replies()) expect(reply?.text).toBe('Half an answer, then the process dies …');
        await expect.poll(openings).toEqual([]);
      } finally {
        child.kill('SIGKILL');
        emulator.faults.configure({});
        client.disconnect();
        emulator.rongcloud.setMessageRouting(undefined);
        await survivor.close();
        await journal.close();
        await routes.close();
        await new Promise((resolve) => receiver.close(resolve));
      }
    }, 45_000);
  },
);

describe('RedisStreamJournal when Redis is away', () => {
  it('writes a record that did not reach Redis once Redis is back, so a survivor can close it', async () => {
    const journal = new RedisStreamJournal({ ...redis.connection, prefix: 'test-away', leaseMs: 300 });
    await journal.settled();
    await redis.stop();
    journal.record('tencent:1/u/m1', { cloud: 'tencent:1', target: { to: 'u' }, state: { messageId: 'm1' } });
    await journal.settled();
    await redis.start();
    const where = connectionOf(redis.address);
    const client = 'url' in where ? new Redis(where.url) : new Cluster(where.nodes);
    await expect
      .poll(() => client.zrange('test-away:journal:{messages}:leases', '0', '-1'), { timeout: 10_000 })
      .toEqual(['tencent:1/u/m1']);
    client.disconnect();
    await journal.close();
  }, 30_000);
});

describe('RedisStreamJournal with live processes', () => {
  it("never closes a living process's message, and forgets a message once it is finished", async () => {
    const app = {
      sdkAppId: 1400000000,
      admin: 'administrator',
      secretKey: 'journal-key',
      baseUrl: emulator.url,
    };
    const journal = (prefix: string) => new RedisStreamJournal({ ...redis.connection, prefix, leaseMs: 300 });
    const [alive, dead, sweeper] = [journal('test-live'), journal('test-live'), journal('test-live')];
    const imAlive = new TencentIm({ ...app, journal: alive });
    const imDead = new TencentIm({ ...app, journal: dead });
    const imSweeper = new TencentIm({ ...app, journal: sweeper });
    const opened = (session: ReturnType<TencentIm['openStream']>, text: string) =>
      new Promise<void>((resolve) => {
        session.once('flush', () => resolve());
        session.write(text);
      });
    const living = imAlive.openStream({ from: '@RBT#journal', to: 'alive' }, { idleTimeoutMs: 60_000 });
    await opened(living, 'Still thinking ');
    // The sentinel: a process that stops renewing, whose message the sweeper closes after its lease.
    const orphan = imDead.openStream({ from: '@RBT#journal', to: 'dead' }, { idleTimeoutMs: 60_000 });
    await opened(orphan, 'Gone ');
    await dead.close();
    const last = (user: string) => emulator.tencent.conversation(user, '@RBT#journal').at(-1);
    await expect
      .poll(() => last('dead'), { timeout: 10_000 })
      .toMatchObject({ text: 'Gone …', state: 'finished' });
    // Several of its leases later, the living process's message is still open: it was renewed.
    expect(last('alive')).toMatchObject({ text: 'Still thinking', state: 'streaming' });
    await living.end('and done.');
    expect(last('alive')).toMatchObject({ text: 'Still thinking and done.', state: 'finished' });
    const where = connectionOf(redis.address);
    const redisClient = 'url' in where ? new Redis(where.url) : new Cluster(where.nodes);
    await expect.poll(() => redisClient.zrange('test-live:journal:{messages}:leases', '0', '-1')).toEqual([]);
    redisClient.disconnect();
    await orphan.abort();
    for (const client of [imAlive, imDead, imSweeper]) await client.close();
    for (const j of [alive, sweeper]) await j.close();
  }, 20_000);
});
