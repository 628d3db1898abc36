import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type BotPlatform,
  RongCloud,
  receiveNodeRequest,
  signRongCloud,
  TencentIm,
  WebhookPipeline,
} from '@imbot/core';
import { tencentCallbackSign } from '@imbot/core/tencent';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisSeenStore } from '../src/index.js';
import { startRedis } from './redis-server.js';

let redis: Awaited<ReturnType<typeof startRedis>>;
const open: { close(): unknown }[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const thing of open) await thing.close();
  await redis.shutdown();
});

/** One replica: a pipeline with its own RedisSeenStore, behind a node:http server. */
async function replica(platform: BotPlatform, bot: string, handled: string[]): Promise<string> {
  const seen = new RedisSeenStore({ ...redis.connection, prefix: 'test-replicas' });
  const pipeline = new WebhookPipeline({
    platform,
    bots: [bot],
    seen,
    onMessage: (message) => void handled.push(message.text),
    onError: () => undefined,
  });
  const server: Server = createServer((req, res) => void receiveNodeRequest(pipeline, req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  open.push({ close: () => pipeline.close() }, seen, {
    close: () => new Promise((resolve) => server.close(resolve)),
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const post = async (url: string, query: string, body: string) =>
  (await fetch(`${url}/?${query}`, { method: 'POST', body })).status;

describe('RedisSeenStore across replicas', () => {
  it('refuses a Tencent callback redelivered to another replica', async () => {
    const im = new TencentIm({
      sdkAppId: 1400000000,
      admin: 'administrator',
      secretKey: 'seen-key',
      baseUrl: 'http://127.0.0.1:9',
      callbackToken: 'token',
    });
    open.push(im);
    const handled: string[] = [];
    const [a, b] = [
      await replica(im.platform, '@RBT#bot', handled),
      await replica(im.platform, '@RBT#bot', handled),
    ];
    const callback = (text: string, key = randomUUID()) => {
      const time = Math.floor(Date.now() / 1000);
      const query = `SdkAppid=1400000000&RequestTime=${time}&Sign=${tencentCallbackSign('token', time)}`;
      const body = JSON.stringify({
        CallbackCommand: 'Bot.OnC2CMessage',
        From_Account: 'alice',
        To_Account: '@RBT#bot',
        MsgKey: key,
        MsgTime: time,
        MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: text } }],
      });
      return [query, body] as const;
    };
    const once = callback('once');
    expect(await post(a as string, ...once)).toBe(200);
    expect(await post(b as string, ...once)).toBe(200);
    expect(await post(b as string, ...callback('sentinel'))).toBe(200);
    await expect.poll(() => handled).toContain('sentinel');
    expect(handled.sort()).toEqual(['once', 'sentinel']);
  });

  it('refuses a RongCloud nonce replayed to another replica', async () => {
    const rong = new RongCloud({ appKey: 'app', appSecret: 'secret', baseUrl: 'http://127.0.0.1:9' });
    open.push(rong);
    const handled: string[] = [];
    const [a, b] = [
      await replica(rong.platform, 'bot', handled),
      await replica(rong.platform, 'bot', handled),
    ];
    const nonce = randomUUID();
    const timestamp = String(Date.now());
    const query = `appKey=app&nonce=${nonce}&timestamp=${timestamp}&signature=${signRongCloud({ appSecret: 'secret', nonce, timestamp })}`;
    const body = JSON.stringify({
      type: 'message:private',
      timestamp: Date.now(),
      bot: { userId: 'bot' },
      data: {
        fromUserId: 'alice',
        toUserId: 'bot',
        objectName: 'RC:TxtMsg',
        content: JSON.stringify({ content: 'hi' }),
        msgUID: randomUUID(),
      },
    });
    expect(await post(a as string, query, body)).toBe(200);
    expect(await post(b as string, query, body)).toBe(409);
    await expect.poll(() => handled).toEqual(['hi']);
  });

  it('keeps receiving in its own memory while Redis is away', async () => {
    const store = new RedisSeenStore({ ...redis.connection, prefix: 'test-away' });
    expect(await store.remember('k', 10_000)).toBe(true);
    await redis.stop();
    try {
      expect(await store.remember('during', 10_000)).toBe(true);
      expect(await store.remember('during', 10_000)).toBe(false);
    } finally {
      await redis.start();
    }
    await expect
      .poll(async () => store.remember(`back-${randomUUID()}`, 10_000), { timeout: 5000 })
      .toBe(true);
    await store.close();
  }, 15_000);
});
