import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { ensureBots, RongCloud } from '@imbot/core';
import { type Emulator, startEmulator } from '@imbot/emulator';
import { ActivityHandler } from 'botbuilder';
import express from 'express';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ImBotAdapter, streamText } from '../src/index.js';

const app = { appKey: 'bf-rong-key', appSecret: 'bf-rong-secret' };
const BOT = 'bot-assistant';
let emulator: Emulator;
let server: Server;
let rong: RongCloud;

beforeEach(async () => {
  emulator = await startEmulator({ rongcloud: app });
});
afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await rong.close();
  await emulator.close();
});

describe('ImBotAdapter on RongCloud', () => {
  it('runs a BotBuilder bot whose streamed answer the user sees finished and exact', async () => {
    const logged: string[] = [];
    const answer = 'The same BotBuilder bot, now on RongCloud, streaming its answer. 同一个机器人。';
    class Bot extends ActivityHandler {
      constructor() {
        super();
        this.onMessage(async (context, next) => {
          logged.push(`${inspect(context, { depth: 8, showHidden: true })}`);
          async function* tokens() {
            for (const token of answer.split(/(?<= )/)) {
              yield token;
              await new Promise((resolve) => setTimeout(resolve, 10));
            }
          }
          await streamText(context, tokens(), { intervalMs: 20 });
          await next();
        });
      }
    }
    const bot = new Bot();
    const web = express();
    server = await new Promise<Server>((resolve) => {
      const s = web.listen(0, '127.0.0.1', () => resolve(s));
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    rong = new RongCloud({
      ...app,
      baseUrl: emulator.url,
      backupBaseUrl: emulator.rongcloud.backupUrl,
      callbackUrl: `${url}/api/messages`,
    });
    await ensureBots(rong.platform, [{ userId: BOT, name: 'Assistant' }]);
    const adapter = new ImBotAdapter({ platform: rong.platform, bots: [BOT] });
    const turnErrors: Error[] = [];
    adapter.onTurnError = async (_context, error) => void turnErrors.push(error);
    web.post('/api/messages', (req, res) => adapter.process(req, res, (context) => bot.run(context)));

    await emulator.rongcloud.userSends({ from: 'alice', to: BOT, text: 'tell me' });
    const fromBot = () => emulator.rongcloud.conversation('alice', BOT).filter((m) => m.from === BOT);
    await expect.poll(() => fromBot().at(-1)?.state, { timeout: 5000 }).toBe('finished');
    expect(fromBot()).toMatchObject([{ kind: 'stream', text: answer, state: 'finished' }]);
    expect(turnErrors).toEqual([]);
    // A logged adapter or TurnContext shows no App Secret.
    logged.push(inspect(adapter, { depth: 8, showHidden: true }), JSON.stringify(adapter.platform));
    expect(logged).toHaveLength(3);
    for (const text of logged) expect(text).not.toContain(app.appSecret);
  });
});
