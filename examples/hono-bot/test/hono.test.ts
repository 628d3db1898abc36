import type { AddressInfo } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import { TencentIm } from '@imbot/core';
import { tencentCallbackSign } from '@imbot/core/tencent';
import { type Emulator, startEmulator } from '@imbot/emulator';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BOT_ID, honoBot } from '../src/app.js';

const app = { sdkAppId: 1400000000, secretKey: 'hono-test-key', admin: 'administrator' };
const TOKEN = 'hono-test-token';
let emulator: Emulator;
let im: TencentIm;
let server: ServerType;
let bot: ReturnType<typeof honoBot>;
let url: string;

beforeEach(async () => {
  emulator = await startEmulator({ tencent: app });
  im = new TencentIm({ ...app, baseUrl: emulator.url, callbackToken: TOKEN });
  bot = honoBot(im.platform);
  server = serve({ fetch: bot.app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise((resolve) => server.once('listening', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/im/webhook`;
  emulator.tencent.setCallback(url, TOKEN);
  await bot.handler.ready;
});
afterEach(async () => {
  await bot.handler.close();
  await new Promise((resolve) => server.close(resolve));
  await im.close();
  await emulator.close();
});

describe('createFetchHandler mounted in Hono', () => {
  it('answers a user with a streamed reply, finished and exact', async () => {
    await emulator.tencent.userSends({ from: 'alice', to: BOT_ID, text: 'hello' });
    await expect
      .poll(() => emulator.tencent.conversation('alice', BOT_ID).find((m) => m.from === BOT_ID))
      .toMatchObject({ state: 'finished', text: 'You said: hello. This answer streams through Hono.' });
  });

  it('says it is healthy on GET once the bot exists, and refuses a forged callback', async () => {
    expect((await fetch(url)).status).toBe(200);
    const time = Math.floor(Date.now() / 1000);
    const forged = await fetch(
      `${url}?SdkAppid=${app.sdkAppId}&RequestTime=${time}&Sign=${tencentCallbackSign('x', time)}`,
      {
        method: 'POST',
        body: '{}',
      },
    );
    expect(forged.status).toBe(401);
    expect(await forged.json()).toMatchObject({ error: 'WEBHOOK_VERIFICATION', problem: 'bad-signature' });
  });
});
