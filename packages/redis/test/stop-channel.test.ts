import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { receiveNodeRequest, TencentIm, WebhookPipeline } from '@imbot/core';
import { type Emulator, startEmulator } from '@imbot/emulator';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RedisStopChannel } from '../src/index.js';
import { startRedis } from './redis-server.js';

/**
 * Two replicas of one Tencent bot behind a balancer the test steers, each with a `RedisStopChannel`
 * on the same Redis (or cluster): a stop that reaches the replica that is not answering ends the
 * answer on the one that is, under the same rules as a local stop.
 */

const app = { sdkAppId: 1400000042, secretKey: 'stops-key', admin: 'administrator' };
const TOKEN = 'stops-token';
const BOT = '@RBT#stops';

let redis: Awaited<ReturnType<typeof startRedis>>;
let emulator: Emulator;
let balancer: Server;
let route: 0 | 1 = 0;
const replicas: { client: TencentIm; stops: RedisStopChannel; pipeline: WebhookPipeline }[] = [];
/** What each handler saw and how its answer's signal ended. */
let answers: { replica: number; text: string; signal: AbortSignal }[];

beforeAll(async () => {
  redis = await startRedis();
  emulator = await startEmulator({ tencent: { ...app, robots: [BOT] } });
  balancer = createServer((req, res) => {
    void receiveNodeRequest(replicas[route]?.pipeline as WebhookPipeline, req, res);
  });
  await new Promise<void>((resolve) => balancer.listen(0, '127.0.0.1', resolve));
  emulator.tencent.setCallback(`http://127.0.0.1:${(balancer.address() as AddressInfo).port}/webhook`, TOKEN);
  for (const index of [0, 1]) {
    const client = new TencentIm({ ...app, baseUrl: emulator.url, callbackToken: TOKEN });
    const stops = new RedisStopChannel({ ...redis.connection, prefix: 'test-stops' });
    const pipeline = new WebhookPipeline({
      platform: client.platform,
      stops,
      stopAdmins: ['carol'],
      onMessage: async (message, reply) => {
        answers.push({ replica: index, text: message.text, signal: reply.signal });
        const session = reply.stream({ minIntervalMs: 20 });
        for (let i = 0; i < 400 && !reply.signal.aborted; i++) {
          session.write(`word${i} `);
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
        await session.end();
      },
    });
    replicas.push({ client, stops, pipeline });
  }
});
afterAll(async () => {
  for (const { client, stops, pipeline } of replicas) {
    await pipeline.close({ timeoutMs: 100 });
    await stops.close();
    await client.close();
  }
  await new Promise((resolve) => balancer.close(resolve));
  await emulator.close();
  await redis.shutdown();
});
beforeEach(() => {
  answers = [];
});

const fromBot = (user: string) => emulator.tencent.conversation(user, BOT).filter((m) => m.from === BOT);

/** Sends `text` from `user` through replica `to`. */
async function send(to: 0 | 1, user: string, text: string, groupId?: string): Promise<void> {
  route = to;
  const sent = groupId
    ? await emulator.tencent.userSendsToGroup({ from: user, groupId, text, mentions: [BOT] })
    : await emulator.tencent.userSends({ from: user, to: BOT, text });
  expect(sent.callback).toMatchObject({ ok: true, status: 200 });
}

/** Cuts every blocked stream reader off Redis, as a network blip would. */
async function cutReaders(): Promise<number> {
  let cut = 0;
  for (const address of redis.address.split(',')) {
    const admin = new Redis(address);
    const list = (await admin.client('LIST')) as string;
    for (const line of list.split('\n').filter((l) => l.includes('cmd=xread'))) {
      const id = /(?:^| )id=(\d+)/.exec(line)?.[1];
      if (id) cut += Number(await admin.client('KILL', 'ID', id));
    }
    admin.disconnect();
  }
  return cut;
}

describe('RedisStopChannel', () => {
  it('a /stop that reaches the other replica ends the answer within 3 s, the text kept, its signal aborted', async () => {
    await send(0, 'alice', 'tell me a long story');
    await expect.poll(() => fromBot('alice')[0]?.text.length ?? 0, { timeout: 5000 }).toBeGreaterThan(20);
    await send(1, 'alice', '/stop');
    await expect.poll(() => fromBot('alice')[0]?.state, { timeout: 3000 }).toBe('finished');
    expect(fromBot('alice')[0]?.text).toMatch(/^word0 word1 .*\(stopped\)$/);
    expect(answers.map((a) => [a.replica, a.text])).toEqual([[0, 'tell me a long story']]);
    expect(answers[0]?.signal.reason).toMatchObject({ code: 'STOPPED', by: 'alice' });
  });

  it('in a group, another member’s stop at the other replica stops nothing; the asker’s does', async () => {
    emulator.tencent.createGroup({ groupId: 'team', members: ['alice', 'bob', BOT] });
    await send(0, 'alice', 'tell the team a story', 'team');
    const answer = () => emulator.tencent.groupConversation('team').find((m) => m.from === BOT);
    await expect.poll(() => answer()?.text.length ?? 0, { timeout: 5000 }).toBeGreaterThan(20);
    await send(1, 'bob', '/stop', 'team');
    // The stream is ordered: once alice's stop has done its work, bob's came before it and did none.
    await send(1, 'alice', '/stop', 'team');
    await expect.poll(() => answer()?.state, { timeout: 3000 }).toBe('finished');
    expect(answers[0]?.signal.reason).toMatchObject({ code: 'STOPPED', by: 'alice' });
    expect(answers.map((a) => a.text)).toEqual(['tell the team a story']);
  });

  it('a TUIKit stop at the other replica ends only the answer whose message it names (here a send_stream_msg one)', async () => {
    await send(0, 'erin', 'tell me a long story');
    await expect.poll(() => fromBot('erin')[0]?.text.length ?? 0, { timeout: 5000 }).toBeGreaterThan(20);
    route = 1;
    const stop = (msgKey: string) =>
      emulator.tencent.userSendsChatbot({
        from: 'erin',
        to: BOT,
        data: { chatbotPlugin: 2, src: 22, msgKey },
      });
    await stop('1_1_1700000000');
    const before = fromBot('erin')[0]?.text.length ?? 0;
    await expect
      .poll(() => fromBot('erin')[0]?.text.length ?? 0, { timeout: 3000 })
      .toBeGreaterThan(before + 20);
    expect(fromBot('erin')[0]?.state).toBe('streaming');
    await stop(fromBot('erin')[0]?.msgKey as string);
    await expect.poll(() => fromBot('erin')[0]?.state, { timeout: 3000 }).toBe('finished');
    expect(fromBot('erin')[0]?.text).toMatch(/\(stopped\)$/);
    expect(answers[0]?.signal.reason).toMatchObject({ code: 'STOPPED', by: 'erin' });
  });

  it('a stop sent while the answering replica is cut off from Redis reaches it when it is back', async () => {
    await send(0, 'dave', 'tell me a long story');
    await expect.poll(() => fromBot('dave')[0]?.text.length ?? 0, { timeout: 5000 }).toBeGreaterThan(20);
    expect(await cutReaders()).toBeGreaterThan(0);
    await send(1, 'dave', '/stop');
    await expect.poll(() => fromBot('dave')[0]?.state, { timeout: 5000 }).toBe('finished');
    expect(fromBot('dave')[0]?.text).toMatch(/\(stopped\)$/);
    expect(answers[0]?.signal.reason).toMatchObject({ code: 'STOPPED', by: 'dave' });
  });
});
