/**
 * Runs the Mastra agent on both clouds against the imbot emulator (Node 22.13 or later):
 * `npm start -- --say "where is order 42?"` says it to the agent as a user on each cloud, prints the
 * finished answers and exits. Without `--say`, it keeps running: talk to it in the emulator's console.
 */
import { parseArgs } from 'node:util';
import { serve } from '@hono/node-server';
import { RongCloud, TencentIm } from '@imbot/core';
import { startEmulator } from '@imbot/emulator';
import { BOT_IDS, mastraAgent } from './agent.js';

const { values } = parseArgs({ options: { say: { type: 'string' } } });
const tencentApp = { sdkAppId: 1400000000, secretKey: 'mastra-example-key', admin: 'administrator' };
const rongApp = { appKey: 'mastra-example', appSecret: 'mastra-example-secret' };
const CALLBACK_TOKEN = 'mastra-example-token';

const emulator = await startEmulator({ tencent: tencentApp, rongcloud: rongApp });
let route: (request: Request) => Promise<Response> = async () => new Response('starting', { status: 503 });
// A Node server in front of web-standard handlers (Mastra's own server would serve the same handlers
// at /api/agents/orders/channels/<cloud>/webhook).
const server = serve({ fetch: (request) => route(request), port: 0, hostname: '127.0.0.1' });
await new Promise((resolve) => server.once('listening', resolve));
const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

emulator.tencent.setCallback(`${base}/webhooks/tencent`, CALLBACK_TOKEN);
const im = new TencentIm({ ...tencentApp, baseUrl: emulator.url, callbackToken: CALLBACK_TOKEN });
const rong = new RongCloud({ ...rongApp, baseUrl: emulator.url, callbackUrl: `${base}/webhooks/rongcloud` });
const { mastra, agent } = mastraAgent({ tencent: im.platform, rongcloud: rong.platform });
const channels = agent.getChannels();
if (!channels) throw new Error('the agent has no channels');
route = (request) => {
  const cloud = new URL(request.url).pathname.split('/')[2];
  return cloud === 'tencent' || cloud === 'rongcloud'
    ? channels.handleWebhookEvent(cloud, request)
    : Promise.resolve(new Response('not found', { status: 404 }));
};
await channels.initialize(mastra);

async function stop(): Promise<void> {
  channels?.close();
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
    console.log(`${cloud} agent: ${reply()?.text}`);
  }
  await stop();
} else {
  console.log(
    `The agent listens on ${base}/webhooks/{tencent,rongcloud}; the emulator's console is ${emulator.url}/`,
  );
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stop());
}
