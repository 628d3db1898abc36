import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RongCloud, TencentIm } from '@imbot/core';
import { type Emulator, type Message, startEmulator } from '@imbot/emulator';
import express from 'express';
import { BOT_ID, demoBot } from './bot.js';

export type Cloud = 'tencent' | 'rongcloud';

/** The emulated apps' credentials: what a real app would take from the clouds' consoles. */
const tencentApp = { sdkAppId: 1400000000, secretKey: 'imbot-emulator-key', admin: 'administrator' };
const rongApp = { appKey: 'imbot-app-key', appSecret: 'imbot-app-secret' };
const CALLBACK_TOKEN = 'demo-callback-token';

export interface Demo {
  emulator: Emulator;
  cloud: Cloud;
  /** The web console, where a person chats with the bot. */
  consoleUrl: string;
  /** Stops taking messages, finishes open streams, and stops the bot and the emulator. */
  close(): Promise<void>;
}

async function listenOn(port: number): Promise<Emulator> {
  try {
    return await startEmulator({ port, tencent: tencentApp, rongcloud: rongApp });
  } catch (error) {
    if ((error as { code?: string }).code !== 'EADDRINUSE' || port === 0) throw error;
    return startEmulator({ port: 0, tencent: tencentApp, rongcloud: rongApp });
  }
}

/**
 * Starts the emulator, the demo bot's Express app on the chosen cloud, and waits until the bot
 * account exists. The emulator takes `port` (the console's address) or any free one if it is taken.
 * `onError` hears what goes wrong in the bot (a model that fails, say); by default it is logged.
 */
export async function startDemo(
  options: { cloud?: Cloud; port?: number; onError?: (error: Error) => void } = {},
): Promise<Demo> {
  const cloud = options.cloud ?? 'tencent';
  const emulator = await listenOn(options.port ?? 0);
  const web = express();
  const server = await new Promise<Server>((resolve) => {
    const s = web.listen(0, '127.0.0.1', () => resolve(s));
  });
  const webhook = `http://127.0.0.1:${(server.address() as AddressInfo).port}/im/webhook`;
  const client =
    cloud === 'tencent'
      ? new TencentIm({ ...tencentApp, baseUrl: emulator.url })
      : new RongCloud({
          ...rongApp,
          baseUrl: emulator.url,
          backupBaseUrl: emulator.rongcloud.backupUrl,
          callbackUrl: webhook,
        });
  if (cloud === 'tencent') emulator.tencent.setCallback(webhook, CALLBACK_TOKEN);
  const router = demoBot(client.platform, {
    ...(cloud === 'tencent' ? { token: CALLBACK_TOKEN } : {}),
    ...(options.onError ? { onError: options.onError } : {}),
  });
  web.use('/im', router);
  await router.ready;
  return {
    emulator,
    cloud,
    consoleUrl: `${emulator.url}/`,
    close: async () => {
      await router.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await client.close();
      await emulator.close();
    },
  };
}

/**
 * Says `text` to the demo bot as a user and calls `onUpdate` each time the reply grows; resolves
 * with the finished reply and how many updates it took.
 */
export async function ask(
  demo: Demo,
  text: string,
  onUpdate: (reply: Message) => void = () => undefined,
): Promise<{ reply: Message; updates: number }> {
  const emulated = demo.cloud === 'tencent' ? demo.emulator.tencent : demo.emulator.rongcloud;
  let updates = 0;
  let resolveFinished: (reply: Message) => void = () => undefined;
  const finished = new Promise<Message>((resolve) => {
    resolveFinished = resolve;
  });
  const watch = (message: Message) => {
    if (message.from !== BOT_ID || message.to !== 'you') return;
    updates++;
    onUpdate(message);
    if (message.state !== 'streaming') resolveFinished(message);
  };
  emulated.state.on('message', watch);
  emulated.state.on('update', watch);
  try {
    await emulated.userSends({ from: 'you', to: BOT_ID, text });
    return { reply: await finished, updates };
  } finally {
    emulated.state.off('message', watch);
    emulated.state.off('update', watch);
  }
}
