import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RongCloud, receiveNodeRequest, WebhookPipeline } from '@imbot/core';
import { type Emulator, startEmulator } from '@imbot/emulator';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RedisRouteStore } from '../src/index.js';
import { startRedis } from './redis-server.js';

/**
 * Two replicas of one RongCloud bot: full message routing posts to one (the receiver), the other
 * streams. With a `RedisRouteStore` shared by both, the streaming replica finds the message its lost
 * opening call opened although the route reached the other.
 */

const app = { appKey: 'routes-app', appSecret: 'routes-secret' };
const BOT = 'routes-bot';
const API = '/v3/message/private/publish_stream.json';
const retry = { retries: 2, minDelayMs: 1, maxDelayMs: 5 };

let redis: Awaited<ReturnType<typeof startRedis>>;
let emulator: Emulator;
let receiverStore: RedisRouteStore;
let receiving: RongCloud;
let receiver: Server;

beforeAll(async () => {
  redis = await startRedis();
  emulator = await startEmulator({ rongcloud: app });
  receiverStore = new RedisRouteStore({ ...redis.connection, prefix: 'test-routes' });
  receiving = new RongCloud({ ...app, baseUrl: emulator.url, routes: receiverStore });
  const pipeline = new WebhookPipeline({ platform: receiving.platform });
  receiver = createServer((req, res) => void receiveNodeRequest(pipeline, req, res));
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  await receiving.close();
  await receiverStore.close();
  await new Promise((resolve) => receiver.close(resolve));
  await emulator.close();
  await redis.shutdown();
});
beforeEach(() => {
  emulator.reset();
  const { port } = receiver.address() as AddressInfo;
  emulator.rongcloud.setMessageRouting({ url: `http://127.0.0.1:${port}/webhook`, serverApi: true });
});

const shown = (user: string) => emulator.rongcloud.conversation(user, BOT).filter((m) => m.from === BOT);

async function answerWithLostOpening(client: RongCloud, user: string, fault: 'reset-after' | 'reset-before') {
  emulator.faults.failNext(API, 1, fault);
  const session = client.openStream({ from: BOT, to: user });
  session.write('Hello');
  await expect.poll(() => emulator.rongcloud.calls().filter((c) => c.api === API).length).toBeGreaterThan(0);
  return session.end(' world, bye.');
}

describe('RedisRouteStore', () => {
  it.each(['reset-after', 'reset-before'] as const)(
    '%s: a replica finds the message its lost opening call opened through a route another received',
    async (fault) => {
      const routes = new RedisRouteStore({ ...redis.connection, prefix: 'test-routes' });
      const streaming = new RongCloud({ ...app, baseUrl: emulator.url, retry, messageRouting: true, routes });
      try {
        const result = await answerWithLostOpening(streaming, `ann-${fault}`, fault);
        expect(result).toMatchObject({ reason: 'completed', fallback: false, messages: 1, undelivered: '' });
        expect(shown(`ann-${fault}`)).toMatchObject([{ text: 'Hello world, bye.', state: 'finished' }]);
      } finally {
        await streaming.close();
        await routes.close();
      }
    },
  );

  it('with routes kept in each process instead, the route is not found and the first message stays open', async () => {
    const streaming = new RongCloud({
      ...app,
      baseUrl: emulator.url,
      retry,
      messageRouting: { waitMs: 300 },
    });
    try {
      await answerWithLostOpening(streaming, 'bob', 'reset-after');
      expect(shown('bob').map((m) => m.state)).toEqual(['streaming', 'finished']);
    } finally {
      await streaming.close();
    }
  });

  it('refuses a route while Redis is away (answered 500, for the cloud to deliver again), and keeps them once it is back', async () => {
    const routes = new RedisRouteStore({ ...redis.connection, prefix: 'test-routes' });
    const streaming = new RongCloud({ ...app, baseUrl: emulator.url, retry, messageRouting: true, routes });
    const failedBefore = emulator.rongcloud.routed.failed;
    await redis.stop();
    try {
      await streaming.openStream({ from: BOT, to: 'dee' }).end('Said while Redis is away.');
      await expect.poll(() => emulator.rongcloud.routed.failed, { timeout: 5000 }).toBe(failedBefore + 1);
      await expect(routes.find({ from: BOT, to: 'dee', since: 0 }, () => true, 0)).rejects.toMatchObject({
        code: 'ROUTES_UNAVAILABLE',
      });
    } finally {
      await redis.start();
    }
    try {
      await expect
        .poll(
          () =>
            routes
              .find({ from: BOT, to: 'dee', since: 0 }, () => true, 0)
              .then(
                () => true,
                () => false,
              ),
          {
            timeout: 10_000,
          },
        )
        .toBe(true);
      const result = await answerWithLostOpening(streaming, 'dee', 'reset-after');
      expect(result).toMatchObject({ reason: 'completed', fallback: false, messages: 1 });
      expect(shown('dee').at(-1)).toMatchObject({ text: 'Hello world, bye.', state: 'finished' });
    } finally {
      await streaming.close();
      await routes.close();
    }
  }, 30_000);

  it('does not take a message another stream claimed', async () => {
    const routes = new RedisRouteStore({ ...redis.connection, prefix: 'test-routes' });
    const where = { from: BOT, to: 'cy' };
    const message = {
      msgUID: 'UID-claimed',
      ...where,
      channelType: 'PERSON',
      objectName: 'RC:StreamMsg',
      content: { content: 'Hello', seq: 1 },
      time: Date.now(),
    };
    try {
      await routes.record(message);
      await routes.record({ ...message, msgUID: 'UID-free' });
      await routes.record({ ...message, msgUID: 'UID-text', objectName: 'RC:TxtMsg' });
      await routes.claim(where, 'UID-claimed');
      const found = await routes.find({ ...where, since: 0 }, () => true, 0);
      expect(found.map((m) => m.msgUID)).toEqual(['UID-free']);
      expect(await routes.find({ ...where, since: Date.now() + 1000 }, () => true, 0)).toEqual([]);
    } finally {
      await routes.close();
    }
  });
});
