import { createIoRedisState } from '@chat-adapter/state-ioredis';
import { TencentIm } from '@imbot/core';
import { tencentCallbackSign } from '@imbot/core/tencent';
import { type Emulator, startEmulator } from '@imbot/emulator';
import { RedisRateLimiter, RedisSeenStore, RedisStopChannel } from '@imbot/redis';
import { Chat, type Thread } from 'chat';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startRedis } from '../../redis/test/redis-server.js';
import { createImbotAdapter } from '../src/index.js';

/**
 * The Chat SDK's Redis state beside imbot's Redis budget and seen-store, on one real Redis: the bot
 * answers, a redelivered callback is dropped once (by imbot), and the Chat SDK keeps no dedupe key.
 */

const app = { sdkAppId: 1400000077, secretKey: 'redis-state-secret', admin: 'administrator' };
const TOKEN = 'redis-state-token';
const BOT = '@RBT#redisstate';

let redis: Awaited<ReturnType<typeof startRedis>>;
let emulator: Emulator;

beforeAll(async () => {
  redis = await startRedis();
  emulator = await startEmulator({ tencent: app });
});
afterAll(async () => {
  await emulator.close();
  await redis.shutdown();
});

it('runs with the Chat SDK’s Redis state beside imbot’s Redis budget and seen-store; a redelivery is handled once', {
  timeout: 30_000,
}, async () => {
  // This project starts a single server (only the redis package's tests run again on a cluster).
  if (!('url' in redis.connection)) throw new Error('expected a single Redis server');
  const { url } = redis.connection;
  const rateLimit = new RedisRateLimiter({ url });
  const seen = new RedisSeenStore({ url });
  const im = new TencentIm({ ...app, baseUrl: emulator.url, callbackToken: TOKEN, rateLimit });
  const adapter = createImbotAdapter({ platform: im.platform, botId: BOT, seen });
  const state = createIoRedisState({ url });
  const bot = new Chat({ userName: 'redis', adapters: { tencent: adapter }, state, logger: 'silent' });
  const handled: string[] = [];
  bot.onDirectMessage(async (thread, message) => {
    handled.push(message.text);
    await thread.subscribe(); // kept in the Chat SDK's Redis state
    await thread.post(
      (async function* () {
        yield 'Answered ';
        yield `"${message.text}".`;
      })(),
    );
  });
  const probe = new Redis(url);
  try {
    await bot.initialize();
    const time = Math.floor(Date.now() / 1000);
    const query = `?SdkAppid=${app.sdkAppId}&CallbackCommand=Bot.OnC2CMessage&contenttype=json&ClientIP=1.2.3.4&OptPlatform=Web&RequestTime=${time}&Sign=${tencentCallbackSign(TOKEN, time)}`;
    const callback = (seq: number, text: string) =>
      JSON.stringify({
        CallbackCommand: 'Bot.OnC2CMessage',
        From_Account: 'alice',
        To_Account: BOT,
        MsgSeq: seq,
        MsgRandom: 7000 + seq,
        MsgTime: time,
        MsgKey: `${seq}_${7000 + seq}_${time}`,
        OnlineOnlyFlag: 0,
        MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: text } }],
        EventTime: Date.now(),
      });
    const deliver = async (body: string) => {
      const waited: Promise<unknown>[] = [];
      const response = await adapter.handleWebhook(
        new Request(`http://127.0.0.1/webhook${query}`, { method: 'POST', body }),
        { waitUntil: (task) => void waited.push(task) },
      );
      expect(response.status).toBe(200);
      await Promise.all(waited);
    };
    await deliver(callback(7, 'once'));
    await deliver(callback(7, 'once')); // the cloud delivers it again
    // A sentinel after both: once it is handled, so would the redelivery have been.
    await deliver(callback(8, 'sentinel'));
    await expect.poll(() => handled, { timeout: 5000 }).toEqual(['once', 'sentinel']);
    await expect
      .poll(
        () =>
          emulator.tencent.conversation('alice', BOT).filter((m) => m.state === 'finished' && m.from === BOT)
            .length,
      )
      .toBe(2);
    const keys = await probe.keys('*');
    expect(keys.some((key) => key.startsWith('chat-sdk'))).toBe(true);
    expect(keys.some((key) => key.startsWith('imbot'))).toBe(true);
    expect(keys.filter((key) => key.includes('dedupe'))).toEqual([]);
  } finally {
    probe.disconnect();
    await bot.shutdown();
    await Promise.all([rateLimit.close(), seen.close(), im.close()]);
  }
});

it('a /stop that reaches another replica aborts thread.signal on the replica that streams', {
  timeout: 30_000,
}, async () => {
  if (!('url' in redis.connection)) throw new Error('expected a single Redis server');
  const { url } = redis.connection;
  const time = Math.floor(Date.now() / 1000);
  const query = `?SdkAppid=${app.sdkAppId}&CallbackCommand=Bot.OnC2CMessage&contenttype=json&RequestTime=${time}&Sign=${tencentCallbackSign(TOKEN, time)}`;
  const callback = (seq: number, text: string) =>
    JSON.stringify({
      CallbackCommand: 'Bot.OnC2CMessage',
      From_Account: 'erin',
      To_Account: BOT,
      MsgSeq: seq,
      MsgRandom: 9000 + seq,
      MsgTime: time,
      MsgKey: `${seq}_${9000 + seq}_${time}`,
      MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: text } }],
    });
  const signals: AbortSignal[] = [];
  const replicas = [0, 1].map(() => {
    const im = new TencentIm({ ...app, baseUrl: emulator.url, callbackToken: TOKEN });
    const stops = new RedisStopChannel({ url, prefix: 'chat-stops' });
    const adapter = createImbotAdapter({ platform: im.platform, botId: BOT, stops });
    const bot = new Chat({
      userName: 'redis',
      adapters: { tencent: adapter },
      state: createIoRedisState({ url }),
      logger: 'silent',
    });
    bot.onDirectMessage(async (thread: Thread) => {
      signals.push(thread.signal as AbortSignal);
      await thread.post(
        (async function* () {
          for (let i = 0; i < 400 && !thread.signal?.aborted; i++) {
            yield `word${i} `;
            await new Promise((resolve) => setTimeout(resolve, 25));
          }
        })(),
      );
    });
    return { im, stops, adapter, bot };
  });
  const [first, second] = replicas as [(typeof replicas)[0], (typeof replicas)[0]];
  const answer = () => emulator.tencent.conversation('erin', BOT).find((m) => m.from === BOT);
  try {
    await Promise.all(replicas.map((r) => r.bot.initialize()));
    expect(first.adapter.supportsTurnCancellation).toBe(true);
    const running = first.adapter.handleWebhook(
      new Request(`http://127.0.0.1/webhook${query}`, { method: 'POST', body: callback(1, 'a long story') }),
    );
    expect((await running).status).toBe(200);
    await expect.poll(() => answer()?.text.length ?? 0, { timeout: 5000 }).toBeGreaterThan(20);
    const stop = await second.adapter.handleWebhook(
      new Request(`http://127.0.0.1/webhook${query}`, { method: 'POST', body: callback(2, '/stop') }),
    );
    expect(stop.status).toBe(200);
    await expect.poll(() => signals[0]?.aborted, { timeout: 3000 }).toBe(true);
    await expect.poll(() => answer()?.state, { timeout: 3000 }).toBe('finished');
    expect(answer()?.text).toMatch(/^word0 .*\(stopped\)$/);
    // Only the first replica's handler ran: "/stop" reached no handler.
    expect(signals).toHaveLength(1);
  } finally {
    for (const r of replicas) {
      await r.bot.shutdown();
      await r.stops.close();
      await r.im.close();
    }
  }
});
