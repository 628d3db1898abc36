import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type BotPlatform, RongCloud, TencentIm } from '@imbot/core';
import { type Emulator, type Message, startEmulator } from '@imbot/emulator';
import express from 'express';
import { BOT_ID, demoBot } from './bot.js';

export type Cloud = 'tencent' | 'rongcloud';

/** The emulated apps' credentials: what a real app would take from the clouds' consoles. */
/** The Tencent app the demo's emulator serves, for code that calls it as the app does. */
export const DEMO_TENCENT_APP = {
  sdkAppId: 1400000000,
  secretKey: 'imbot-emulator-key',
  admin: 'administrator',
};

const rongApp = { appKey: 'imbot-app-key', appSecret: 'imbot-app-secret' };
const CALLBACK_TOKEN = 'demo-callback-token';

export interface Demo {
  /** The emulator the demo started; absent when it uses a running one (`emulatorUrl`). */
  emulator?: Emulator;
  cloud: Cloud;
  /** The web console, where a person chats with the bot. */
  consoleUrl: string;
  /** Stops taking messages, finishes open streams, and stops the bot and the emulator. */
  close(): Promise<void>;
}

async function listenOn(port: number): Promise<Emulator> {
  try {
    return await startEmulator({ port, tencent: DEMO_TENCENT_APP, rongcloud: rongApp });
  } catch (error) {
    if ((error as { code?: string }).code !== 'EADDRINUSE' || port === 0) throw error;
    return startEmulator({ port: 0, tencent: DEMO_TENCENT_APP, rongcloud: rongApp });
  }
}

/**
 * Starts the emulator, the demo bot's Express app on the chosen cloud, and waits until the bot
 * account exists. The emulator takes `port` (the console's address) or any free one if it is taken.
 * `onError` hears what goes wrong in the bot (a model that fails, say); by default it is logged.
 * `log` hears one line for each message in and each reply out.
 */
export async function startDemo(
  options: {
    cloud?: Cloud;
    port?: number;
    emulatorUrl?: string;
    onError?: (error: Error) => void;
    log?: (line: string) => void;
  } = {},
): Promise<Demo> {
  const cloud = options.cloud ?? 'tencent';
  const emulator = options.emulatorUrl ? undefined : await listenOn(options.port ?? 0);
  const emulatorUrl = emulator?.url ?? (options.emulatorUrl as string);
  const web = express();
  const server = await new Promise<Server>((resolve) => {
    const s = web.listen(0, '127.0.0.1', () => resolve(s));
  });
  const webhook = `http://127.0.0.1:${(server.address() as AddressInfo).port}/im/webhook`;
  const client =
    cloud === 'tencent'
      ? new TencentIm({ ...DEMO_TENCENT_APP, baseUrl: emulatorUrl, callbackToken: CALLBACK_TOKEN })
      : new RongCloud({
          ...rongApp,
          baseUrl: emulatorUrl,
          ...(emulator ? { backupBaseUrl: emulator.rongcloud.backupUrl } : {}),
          callbackUrl: webhook,
        });
  if (cloud === 'tencent') await pointTencentCallbacks(emulatorUrl, webhook);
  const router = demoBot(client.platform, {
    ...(options.onError ? { onError: options.onError } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
  web.use('/im', router);
  await router.ready;
  await makeDemoGroup(emulatorUrl, cloud, client.platform);
  return {
    ...(emulator ? { emulator } : {}),
    cloud,
    consoleUrl: `${emulatorUrl}/${cloud === 'rongcloud' ? '#rongcloud' : ''}`,
    close: async () => {
      await router.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await client.close();
      await emulator?.close();
    },
  };
}

/** The group the demo bot is put into, with the console's user and a friend. */
export const DEMO_GROUP = 'team';

/**
 * Makes the demo group in the emulator (as an app's users would), then puts the bot into it the way
 * an app does, through the platform.
 */
async function makeDemoGroup(emulatorUrl: string, cloud: Cloud, platform: BotPlatform): Promise<void> {
  const response = await fetch(`${emulatorUrl}/_emulator/${cloud}/groups`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ groupId: DEMO_GROUP, members: ['you', 'alice'] }),
  });
  if (!response.ok) throw new Error(`the emulator at ${emulatorUrl} answered ${response.status}`);
  await platform.addBotToGroup(BOT_ID, DEMO_GROUP);
}

/** Tells the emulator where Tencent callbacks go, signed with the demo's token (its control API). */
async function pointTencentCallbacks(emulatorUrl: string, webhook: string): Promise<void> {
  const response = await fetch(`${emulatorUrl}/_emulator/tencent/callback`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ url: webhook, token: CALLBACK_TOKEN }),
  });
  if (!response.ok) throw new Error(`the emulator at ${emulatorUrl} answered ${response.status}`);
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
  if (!demo.emulator) throw new Error('ask() needs the emulator the demo started itself');
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
