/**
 * Runs the bot on a Tencent Cloud Chat robot. With no cloud settings it starts the imbot emulator
 * in-process, so it works offline: `npm start -- --say hello --say Ada` talks to it and exits.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { ImBotAdapter } from '@imbot/botframework-adapter';
import { ensureBots, TencentIm } from '@imbot/core';
import { startEmulator } from '@imbot/emulator';
import { ConversationState, MemoryStorage } from 'botbuilder';
import express from 'express';
import { AssistantBot } from './bot.js';

const BOT = '@RBT#assistant';
const USER = 'you';
const { values } = parseArgs({
  options: { say: { type: 'string', multiple: true }, port: { type: 'string' } },
});

const app = { sdkAppId: 1400000000, secretKey: 'botframework-example-key', admin: 'administrator' };
/** The token of the Chat console's callback settings: callbacks are signed with it. */
const CALLBACK_TOKEN = 'botframework-example-token';
const emulator = await startEmulator({ tencent: app });
const im = new TencentIm({ ...app, baseUrl: emulator.url, callbackToken: CALLBACK_TOKEN });
await ensureBots(im.platform, [{ userId: BOT, name: 'Assistant' }]);

const adapter = new ImBotAdapter({ platform: im.platform, bots: [BOT] });
adapter.onTurnError = async (context, error) => {
  console.error('turn failed:', error);
  await context.sendActivity('Sorry, something went wrong.');
};
const bot = new AssistantBot(new ConversationState(new MemoryStorage()));

const web = express();
web.post('/api/messages', (req, res) => adapter.process(req, res, (context) => bot.run(context)));
const server = await new Promise<Server>((resolve) => {
  const s = web.listen(Number(values.port ?? 0), '127.0.0.1', () => resolve(s));
});
const port = (server.address() as AddressInfo).port;
emulator.tencent.setCallback(`http://127.0.0.1:${port}/api/messages`, CALLBACK_TOKEN);

/** Stops taking messages, lets running turns finish (10 s at most), then stops. */
async function shutdown(): Promise<void> {
  await adapter.close();
  server.close();
  await im.close();
  await emulator.close();
}

/** Says `text` as the user, then prints the bot's answer as it grows, until it is finished. */
async function say(text: string): Promise<void> {
  const before = emulator.tencent.conversation(USER, BOT).length;
  console.log(`${USER}: ${text}`);
  let shown = '';
  const show = () => {
    const reply = emulator.tencent
      .conversation(USER, BOT)
      .slice(before)
      .find((m) => m.from === BOT);
    if (reply && reply.text !== shown) {
      process.stdout.write(shown === '' ? `assistant: ${reply.text}` : reply.text.slice(shown.length));
      shown = reply.text;
    }
    return reply;
  };
  emulator.tencent.state.on('update', show);
  await emulator.tencent.userSends({ from: USER, to: BOT, text });
  for (let reply = show(); reply?.state !== 'finished'; reply = show()) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  emulator.tencent.state.off('update', show);
  process.stdout.write('\n');
}

if (values.say?.length) {
  for (const text of values.say) await say(text);
  await shutdown();
} else {
  console.log(`The bot listens on http://127.0.0.1:${port}/api/messages, the emulator on ${emulator.url}.`);
  console.log(
    `Talk to it: curl -X POST ${emulator.url}/_emulator/tencent/messages -d '{"from":"${USER}","to":"${BOT}","text":"hello"}'`,
  );
  console.log(
    `Read the chat: ${emulator.url}/_emulator/tencent/conversation?user=${USER}&with=${encodeURIComponent(BOT)}`,
  );
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void shutdown());
}
