/**
 * The demo bot of `examples/express-streaming-bot`, on RongCloud. Against the built-in emulator:
 *
 *   npm start                        runs until Ctrl-C
 *   npm start -- --say "hello"       says hello as a user, prints the streamed reply, exits
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { RongCloud } from '@imbot/core';
import { startEmulator } from '@imbot/emulator';
import express from 'express';
import { BOT_ID, demoBot } from 'express-streaming-bot';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: { say: { type: 'string' } },
});

const credentials = { appKey: 'imbot-app-key', appSecret: 'imbot-app-secret' };
const emulator = await startEmulator({ rongcloud: credentials });
const web = express();
const server = await new Promise<Server>((resolve) => {
  const s = web.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => resolve(s));
});
const callbackUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/im/webhook`;

// On the real cloud: new RongCloud({ appKey, appSecret, region: 'singapore', callbackUrl: 'https://your.host/im/webhook' }).
const rong = new RongCloud({
  ...credentials,
  baseUrl: emulator.url,
  backupBaseUrl: emulator.rongcloud.backupUrl,
  callbackUrl,
});
const bot = demoBot(rong.platform); // the one line that names the cloud
web.use('/im', bot);
await bot.ready;

const stop = async () => {
  await bot.close();
  server.close();
  await rong.close();
  await emulator.close();
};

if (values.say !== undefined) {
  console.log(`you: ${values.say}`);
  await emulator.rongcloud.userSends({ from: 'you', to: BOT_ID, text: values.say });
  const reply = () => emulator.rongcloud.conversation('you', BOT_ID).find((m) => m.from === BOT_ID);
  while (reply()?.state !== 'finished') await new Promise((resolve) => setTimeout(resolve, 50));
  console.log(`bot: ${reply()?.text}`);
  console.log(`(${reply()?.state}, streamed in ${reply()?.calls} calls)`);
  await stop();
} else {
  console.log(
    `The bot runs on the emulated RongCloud; chat with it in the console: ${emulator.url}/ (RongCloud tab).`,
  );
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stop());
}
