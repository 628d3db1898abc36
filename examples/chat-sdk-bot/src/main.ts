/**
 * Runs the Chat SDK bot on both clouds against the imbot emulator: `npm start -- --say hello` says
 * hello to it as a user on each cloud, prints the finished answers and exits. Without `--say`, it
 * keeps running: talk to it in the emulator's console.
 */
import { parseArgs } from 'node:util';
import { serve } from '@hono/node-server';
import { RongCloud, TencentIm } from '@imbot/core';
import { startEmulator } from '@imbot/emulator';
import { BOT_IDS, chatSdkBot } from './bot.js';

const { values } = parseArgs({ options: { say: { type: 'string' } } });
const tencentApp = { sdkAppId: 1400000000, secretKey: 'chat-sdk-example-key', admin: 'administrator' };
const rongApp = { appKey: 'chat-sdk-example', appSecret: 'chat-sdk-example-secret' };
const CALLBACK_TOKEN = 'chat-sdk-example-token';

const emulator = await startEmulator({ tencent: tencentApp, rongcloud: rongApp });
let route: (request: Request) => Promise<Response> = async () => new Response('starting', { status: 503 });
const server = serve({ fetch: (request) => route(request), port: 0, hostname: '127.0.0.1' });
await new Promise((resolve) => server.once('listening', resolve));
const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

emulator.tencent.setCallback(`${base}/webhooks/tencent`, CALLBACK_TOKEN);
const im = new TencentIm({ ...tencentApp, baseUrl: emulator.url, callbackToken: CALLBACK_TOKEN });
const rong = new RongCloud({ ...rongApp, baseUrl: emulator.url, callbackUrl: `${base}/webhooks/rongcloud` });
const bot = chatSdkBot({ tencent: im.platform, rongcloud: rong.platform });
// The Chat SDK serves each adapter's webhook as bot.webhooks.<name>.
route = (request) => {
  const cloud = new URL(request.url).pathname.split('/')[2];
  const handler = cloud === 'tencent' || cloud === 'rongcloud' ? bot.webhooks[cloud] : undefined;
  return handler ? handler(request) : Promise.resolve(new Response('not found', { status: 404 }));
};
await bot.initialize();

async function stop(): Promise<void> {
  await bot.shutdown();
  server.close();
  await Promise.all([im.close(), rong.close()]);
  await emulator.close();
}

if (values.say !== undefined) {
  for (const cloud of ['tencent', 'rongcloud'] as const) {
    await emulator[cloud].userSends({ from: 'you', to: BOT_IDS[cloud], text: values.say });
    const reply = () =>
      emulator[cloud].conversation('you', BOT_IDS[cloud]).find((m) => m.from === BOT_IDS[cloud]);
    while (reply()?.state !== 'finished') await new Promise((resolve) => setTimeout(resolve, 20));
    console.log(`${cloud} bot: ${reply()?.text}`);
  }
  await stop();
} else {
  console.log(
    `The bot listens on ${base}/webhooks/{tencent,rongcloud}; the emulator's console is ${emulator.url}/`,
  );
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stop());
}
