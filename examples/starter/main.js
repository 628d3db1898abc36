// Runs the bot. With TENCENT_SDK_APP_ID and TENCENT_SECRET_KEY set, on Tencent Cloud Chat (set the
// callback URL to https://<your host>/im/webhook and its token, TENCENT_CALLBACK_TOKEN, in the Chat
// console). Without them, on the local emulator: chat with the bot in the console URL it prints.
import { TencentIm } from '@imbot/core';
import express from 'express';
import { createBot } from './bot.js';

const port = Number(process.env.PORT ?? 3000);
const env = process.env;
let emulator;
if (!env.TENCENT_SECRET_KEY) {
  const { startEmulator } = await import('@imbot/emulator');
  emulator = await startEmulator({
    tencent: { sdkAppId: 1400000000, secretKey: 'dev-key', admin: 'administrator' },
  });
}
const im = new TencentIm({
  sdkAppId: Number(env.TENCENT_SDK_APP_ID ?? 1400000000),
  admin: env.TENCENT_ADMIN ?? 'administrator',
  secretKey: env.TENCENT_SECRET_KEY ?? 'dev-key',
  callbackToken: env.TENCENT_CALLBACK_TOKEN ?? 'dev-token',
  ...(emulator ? { baseUrl: emulator.url } : { region: env.TENCENT_REGION ?? 'singapore' }),
});
const bot = createBot(im.platform);
const server = express().use('/im', bot).listen(port);
await bot.ready;
if (emulator) {
  emulator.tencent.setCallback(`http://127.0.0.1:${server.address().port}/im/webhook`, 'dev-token');
  console.log(`The bot runs on the local emulator. Chat with it: ${emulator.url}/`);
} else {
  console.log(`The bot listens on port ${server.address().port}, path /im/webhook.`);
}
// Ctrl-C, a container stopping (SIGTERM), or `npm start`'s shell gone (a SIGTERM sent to npm's PID
// ends the shell npm ran this under, not this process): let the answers in progress finish, then exit.
let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await bot.close();
  server.close();
  await im.close();
  await emulator?.close();
  process.exit(0);
}
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) void stop();
}, 250).unref();
