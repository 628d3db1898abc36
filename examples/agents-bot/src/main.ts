/**
 * Runs the agent on a Tencent Cloud Chat robot. With no cloud settings it starts the imbot emulator
 * in-process: `npm start -- --say hello` says hello as a user, prints the finished
 * answer and exits; without `--say` it runs until SIGINT or SIGTERM.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { ImbotAgentsAdapter } from '@imbot/agents-adapter';
import { ensureBots, TencentIm } from '@imbot/core';
import { startEmulator } from '@imbot/emulator';
import express from 'express';
import { createAgent } from './agent.js';

const BOT = '@RBT#agent';
const CALLBACK_TOKEN = 'agents-example-token';
const { values } = parseArgs({ options: { say: { type: 'string' } } });

const app = { sdkAppId: 1400000000, secretKey: 'agents-example-key', admin: 'administrator' };
const emulator = await startEmulator({ tencent: app });
const im = new TencentIm({ ...app, baseUrl: emulator.url, callbackToken: CALLBACK_TOKEN });
await ensureBots(im.platform, [{ userId: BOT, name: 'Agent' }]);

const adapter = new ImbotAgentsAdapter({ platform: im.platform });
adapter.onTurnError = async (_context, error) => {
  console.error('turn failed:', error);
};
const agent = createAgent();
const web = express().post('/api/messages', (req, res) =>
  adapter.process(req, res, (context) => agent.run(context)),
);
const server = await new Promise<Server>((resolve) => {
  const s = web.listen(0, '127.0.0.1', () => resolve(s));
});
emulator.tencent.setCallback(
  `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/messages`,
  CALLBACK_TOKEN,
);

async function stop(): Promise<void> {
  await adapter.close();
  server.close();
  await im.close();
  await emulator.close();
}

if (values.say !== undefined) {
  console.log(`you: ${values.say}`);
  await emulator.tencent.userSends({ from: 'you', to: BOT, text: values.say });
  const reply = () => emulator.tencent.conversation('you', BOT).find((m) => m.from === BOT);
  while (reply()?.state !== 'finished') await new Promise((resolve) => setTimeout(resolve, 20));
  console.log(`agent: ${reply()?.text}`);
  await stop();
} else {
  console.log(`The agent runs on the emulator; chat with it in the console: ${emulator.url}/`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stop());
}
