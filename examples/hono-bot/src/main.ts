/**
 * Runs the Hono bot against the imbot emulator: `npm start -- --say hello` says hello as a user,
 * prints the finished answer and exits. SIGTERM and SIGINT let answers in progress finish first.
 */
import { parseArgs } from 'node:util';
import { serve } from '@hono/node-server';
import { TencentIm } from '@imbot/core';
import { startEmulator } from '@imbot/emulator';
import { BOT_ID, honoBot } from './app.js';

const { values } = parseArgs({ options: { say: { type: 'string' } } });
const app = { sdkAppId: 1400000000, secretKey: 'hono-example-key', admin: 'administrator' };
const CALLBACK_TOKEN = 'hono-example-token';

const emulator = await startEmulator({ tencent: app });
const im = new TencentIm({ ...app, baseUrl: emulator.url, callbackToken: CALLBACK_TOKEN });
const bot = honoBot(im.platform);
const server = serve({ fetch: bot.app.fetch, port: 0, hostname: '127.0.0.1' });
await new Promise((resolve) => server.once('listening', resolve));
const { port } = server.address() as { port: number };
emulator.tencent.setCallback(`http://127.0.0.1:${port}/im/webhook`, CALLBACK_TOKEN);
await bot.handler.ready;

async function stop(): Promise<void> {
  await bot.handler.close();
  server.close();
  await im.close();
  await emulator.close();
}

if (values.say !== undefined) {
  await emulator.tencent.userSends({ from: 'you', to: BOT_ID, text: values.say });
  const reply = () => emulator.tencent.conversation('you', BOT_ID).find((m) => m.from === BOT_ID);
  while (reply()?.state !== 'finished') await new Promise((resolve) => setTimeout(resolve, 20));
  console.log(`bot: ${reply()?.text}`);
  await stop();
} else {
  console.log(
    `The bot listens on http://127.0.0.1:${port}/im/webhook; the emulator's console is ${emulator.url}/`,
  );
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stop());
}
