import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ModelMessage, RongCloud, receiveNodeRequest, WebhookPipeline } from '@imbot/core';
import { type Emulator, startEmulator } from '@imbot/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisTranscriptStore } from '../src/index.js';
import { startRedis } from './redis-server.js';

/**
 * Two replicas of one RongCloud bot behind a balancer that alternates between them, sharing a
 * `RedisTranscriptStore`: the second message, answered by the other replica, sees the conversation
 * the first one had (RongCloud keeps no history a bot can read).
 */

const app = { appKey: 'transcript-app', appSecret: 'transcript-secret' };
const BOT = 'transcript-bot';

let redis: Awaited<ReturnType<typeof startRedis>>;
let emulator: Emulator;
let balancer: Server;
const replicas: { client: RongCloud; store: RedisTranscriptStore; pipeline: WebhookPipeline }[] = [];
const histories: { replica: number; history: ModelMessage[] }[] = [];

beforeAll(async () => {
  redis = await startRedis();
  emulator = await startEmulator({ rongcloud: app });
  let turn = 0;
  balancer = createServer((req, res) => {
    const replica = replicas[turn++ % replicas.length];
    void receiveNodeRequest(replica?.pipeline as WebhookPipeline, req, res);
  });
  await new Promise<void>((resolve) => balancer.listen(0, '127.0.0.1', resolve));
  const callbackUrl = `http://127.0.0.1:${(balancer.address() as AddressInfo).port}/webhook`;
  for (const index of [0, 1]) {
    const client = new RongCloud({ ...app, baseUrl: emulator.url, callbackUrl });
    const store = new RedisTranscriptStore({ ...redis.connection, prefix: 'test-transcript' });
    const pipeline = new WebhookPipeline({
      platform: client.platform,
      transcript: store,
      onMessage: async (message, reply) => {
        histories.push({ replica: index, history: await reply.history() });
        await reply
          .stream()
          .end(message.text === 'my name is Ann' ? 'Nice to meet you, Ann.' : 'You are Ann.');
      },
    });
    replicas.push({ client, store, pipeline });
  }
  await replicas[0]?.client.platform.createBot({ userId: BOT, name: 'Transcript' });
});
afterAll(async () => {
  for (const { client, store, pipeline } of replicas) {
    await pipeline.close();
    await client.close();
    await store.close();
  }
  await new Promise((resolve) => balancer.close(resolve));
  await emulator.close();
  await redis.shutdown();
});

describe('RedisTranscriptStore', () => {
  it('a replica answering the second message sees the conversation another replica had', async () => {
    await emulator.rongcloud.userSends({ from: 'ann', to: BOT, text: 'my name is Ann' });
    await expect
      .poll(() => emulator.rongcloud.conversation('ann', BOT).at(-1), { timeout: 5000 })
      .toMatchObject({ from: BOT, state: 'finished' });
    await emulator.rongcloud.userSends({ from: 'ann', to: BOT, text: 'what is my name?' });
    await expect.poll(() => histories.length, { timeout: 5000 }).toBe(2);
    expect(histories.map((h) => h.replica)).toEqual([0, 1]);
    expect(histories[1]?.history).toEqual([
      { role: 'user', content: 'my name is Ann' },
      { role: 'assistant', content: 'Nice to meet you, Ann.' },
      { role: 'user', content: 'what is my name?' },
    ]);
  });

  it('keeps maxMessages per conversation, the newest, and refuses bad options with a ValidationError', async () => {
    const store = new RedisTranscriptStore({ ...redis.connection, prefix: 'test-bounded', maxMessages: 3 });
    for (const id of ['a', 'b', 'c', 'd']) {
      await store.append('rongcloud:bot:c2c:bob', { id, role: 'user', from: 'bob', text: id, time: 0 });
    }
    expect((await store.read('rongcloud:bot:c2c:bob', 10)).map((e) => e.id)).toEqual(['b', 'c', 'd']);
    expect((await store.read('rongcloud:bot:c2c:bob', 1)).map((e) => e.id)).toEqual(['d']);
    await store.close();
    expect(() => new RedisTranscriptStore({ ...redis.connection, maxMessages: 0 })).toThrow(
      expect.objectContaining({ code: 'VALIDATION', field: 'options.maxMessages' }),
    );
  });
});
