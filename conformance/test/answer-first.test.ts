/**
 * Every entry answers the cloud before it runs the handler or turn: a turn that blocks the event loop
 * for 300 ms must not delay the answer. The cloud runs in a process of its own, so the blocked loop of
 * this one cannot slow its clock.
 */
import { execFile } from 'node:child_process';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { serve } from '@hono/node-server';
import { ImbotAgentsAdapter } from '@imbot/agents-adapter';
import { ImBotAdapter } from '@imbot/botframework-adapter';
import {
  type BotPlatform,
  createFetchHandler,
  RongCloud,
  signRongCloud,
  TencentIm,
  tencentCallbackSign,
} from '@imbot/core';
import { type Emulator, startEmulator } from '@imbot/emulator';
import { imbot } from '@imbot/express-middleware';
import express from 'express';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const APP = { sdkAppId: 1400000000, secretKey: 'answer-first-key', admin: 'administrator' };
const TOKEN = 'answer-first-token';
const RONG = { appKey: 'answer-first-app', appSecret: 'answer-first-secret' };
const BOT = '@RBT#first';

let emulator: Emulator;
let im: TencentIm;
let rong: RongCloud;
const servers: Server[] = [];

beforeAll(async () => {
  emulator = await startEmulator({ tencent: APP, rongcloud: RONG });
  im = new TencentIm({ ...APP, baseUrl: emulator.url, callbackToken: TOKEN });
  rong = new RongCloud({ ...RONG, baseUrl: emulator.url });
});
afterAll(async () => {
  for (const server of servers) server.closeAllConnections();
  await im.close();
  await rong.close();
  await emulator.close();
});

/** A signed callback of each cloud from alice to the bot: the query and the body. */
const callbacks = {
  tencent: (key: string) => {
    const time = Math.floor(Date.now() / 1000);
    return {
      query: `SdkAppid=${APP.sdkAppId}&RequestTime=${time}&Sign=${tencentCallbackSign(TOKEN, time)}`,
      body: JSON.stringify({
        CallbackCommand: 'Bot.OnC2CMessage',
        From_Account: 'alice',
        To_Account: BOT,
        MsgKey: key,
        MsgTime: time,
        MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'block' } }],
      }),
    };
  },
  rongcloud: (key: string) => {
    const timestamp = String(Date.now());
    return {
      query: `appKey=${RONG.appKey}&nonce=${key}&timestamp=${timestamp}&signature=${signRongCloud({ appSecret: RONG.appSecret, nonce: key, timestamp })}`,
      body: JSON.stringify({
        type: 'message:private',
        timestamp: Date.now(),
        bot: { userId: BOT },
        data: {
          fromUserId: 'alice',
          toUserId: BOT,
          objectName: 'RC:TxtMsg',
          content: '{"content":"block"}',
          msgUID: key,
        },
      }),
    };
  },
};
const platforms = { tencent: () => im.platform, rongcloud: () => rong.platform } satisfies Record<
  string,
  () => BotPlatform
>;

/** Blocks this process's event loop for 300 ms, as a slow synchronous turn would. */
function block(): void {
  const until = performance.now() + 300;
  while (performance.now() < until) {
    // synchronous work
  }
}

async function listen(server: Server): Promise<string> {
  servers.push(server);
  if (!server.listening) await new Promise((resolve) => server.once('listening', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/im/webhook`;
}

/** Each entry, serving /im/webhook with a handler that records its message and blocks. */
const entries: Record<string, (platform: BotPlatform, ran: string[]) => Promise<string>> = {
  express: async (platform, ran) => {
    const router = imbot({
      platform,
      bots: [{ userId: BOT }],
      onMessage: (m) => {
        ran.push(m.text);
        block();
      },
    });
    await router.ready;
    return listen(express().use('/im', router).listen(0, '127.0.0.1'));
  },
  fetch: async (platform, ran) => {
    const handler = createFetchHandler({
      platform,
      bots: [{ userId: BOT }],
      onMessage: (m) => {
        ran.push(m.text);
        block();
      },
    });
    await handler.ready;
    return listen(
      serve({
        fetch: new Hono().all('/im/webhook', (c) => handler(c.req.raw)).fetch,
        port: 0,
        hostname: '127.0.0.1',
      }) as Server,
    );
  },
  'Bot Framework adapter': async (platform, ran) => {
    const adapter = new ImBotAdapter({ platform });
    return listen(
      express()
        .post('/im/webhook', (req, res) =>
          adapter.process(req, res, async (c) => {
            ran.push(c.activity.text);
            block();
          }),
        )
        .listen(0, '127.0.0.1'),
    );
  },
  'Agents SDK adapter': async (platform, ran) => {
    const adapter = new ImbotAgentsAdapter({ platform });
    return listen(
      express()
        .post('/im/webhook', (req, res) =>
          adapter.process(req, res, async (c) => {
            ran.push(c.activity.text ?? '');
            block();
          }),
        )
        .listen(0, '127.0.0.1'),
    );
  },
};

const cloudScript = `
  const started = performance.now();
  const response = await fetch(process.argv[1], { method: 'POST', body: process.argv[2] });
  await response.text();
  console.log(JSON.stringify({ status: response.status, ms: performance.now() - started }));`;

describe.each(
  Object.keys(entries).flatMap(
    (name) =>
      [
        [name, 'tencent'],
        [name, 'rongcloud'],
      ] as const,
  ),
)('%s on %s', (name, cloud) => {
  it('answers before a turn that blocks for 300 ms runs', async () => {
    const ran: string[] = [];
    const start = entries[name] as (platform: BotPlatform, ran: string[]) => Promise<string>;
    const url = await start(platforms[cloud](), ran);
    const { query, body } = callbacks[cloud](`blocking-${name}-${cloud}`.replace(/\W/g, '-'));
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--input-type=module',
      '-e',
      cloudScript,
      `${url}?${query}`,
      body,
    ]);
    const answer = JSON.parse(stdout) as { status: number; ms: number };
    expect(answer.status).toBe(200);
    expect(answer.ms).toBeLessThan(150);
    // The turn did run, after the answer.
    await expect.poll(() => ran).toEqual(['block']);
  }, 20_000);
});
