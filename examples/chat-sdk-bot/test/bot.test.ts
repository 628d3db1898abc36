import type { AddressInfo } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import { type BotPlatform, RongCloud, TencentIm } from '@imbot/core';
import { type Emulator, startEmulator } from '@imbot/emulator';
import type { Chat } from 'chat';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BOT_IDS, chatSdkBot } from '../src/bot.js';

const tencentApp = { sdkAppId: 1400000000, secretKey: 'chat-sdk-test-key', admin: 'administrator' };
const rongApp = { appKey: 'chat-sdk-test', appSecret: 'chat-sdk-test-secret' };
const TOKEN = 'chat-sdk-test-token';
const ANSWER = (prompt: string) => `Here is what I found about "${prompt}", streamed word by word.`;

describe.each(['tencent', 'rongcloud'] as const)('the Chat SDK bot on %s', (cloud) => {
  const botId = BOT_IDS[cloud];
  let emulator: Emulator;
  let server: ServerType;
  let client: TencentIm | RongCloud;
  let bot: Chat;

  beforeEach(async () => {
    emulator = await startEmulator({ tencent: tencentApp, rongcloud: rongApp });
    let route: (request: Request) => Promise<Response> = async () => new Response(null, { status: 503 });
    server = serve({ fetch: (request) => route(request), port: 0, hostname: '127.0.0.1' });
    await new Promise((resolve) => server.once('listening', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook`;
    emulator.tencent.setCallback(url, TOKEN);
    client =
      cloud === 'tencent'
        ? new TencentIm({ ...tencentApp, baseUrl: emulator.url, callbackToken: TOKEN })
        : new RongCloud({ ...rongApp, baseUrl: emulator.url, callbackUrl: url });
    bot = chatSdkBot({ [cloud]: client.platform as BotPlatform });
    route = (request) =>
      bot.webhooks[cloud]?.(request) ?? Promise.resolve(new Response(null, { status: 404 }));
    await bot.initialize();
  });

  afterEach(async () => {
    await bot.shutdown();
    await new Promise((resolve) => server.close(resolve));
    await client.close();
    await emulator.close();
  });

  it('a mention subscribes it to the group, and each answer streams in, finished and exact', async () => {
    emulator[cloud].createGroup({ groupId: 'team', members: ['alice', 'bob'] });
    await client.platform.addBotToGroup(botId, 'team');
    const answers = () =>
      emulator[cloud]
        .groupConversation('team')
        .filter((m) => m.from === botId && m.state === 'finished')
        .map((m) => `${m.kind}: ${m.text}`);
    await emulator[cloud].userSendsToGroup({
      from: 'alice',
      groupId: 'team',
      text: 'the plan',
      mentions: [botId],
    });
    await expect.poll(answers, { timeout: 5000 }).toEqual([`stream: @alice ${ANSWER('the plan')}`]);
    await emulator[cloud].userSendsToGroup({
      from: 'bob',
      groupId: 'team',
      text: 'and costs',
      mentions: [botId],
    });
    await expect
      .poll(answers, { timeout: 5000 })
      .toEqual([`stream: @alice ${ANSWER('the plan')}`, `stream: @bob ${ANSWER('and costs')}`]);
  });

  it('a card’s button reaches onAction', async () => {
    await emulator[cloud].userSends({ from: 'alice', to: botId, text: 'deploy please' });
    const fromBot = () => emulator[cloud].conversation('alice', botId).filter((m) => m.from === botId);
    await expect.poll(() => fromBot()[0]?.content?.type, { timeout: 5000 }).toBe('card');
    const card = fromBot()[0];
    const ship =
      card?.content?.type === 'card' ? card.content.buttons.find((b) => b.title === 'Ship it') : undefined;
    if (!card || ship?.type !== 'message') throw new Error('no Ship it button on the card');
    await emulator[cloud].userPresses({ from: 'alice', msgKey: card.msgKey, value: ship.value });
    await expect.poll(() => fromBot()[1]?.text, { timeout: 5000 }).toBe('Shipping build 42 for alice.');
  });
});
