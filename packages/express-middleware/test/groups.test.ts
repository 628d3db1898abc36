import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type BotPlatform, type ReplyTarget, RongCloud, TencentIm } from '@imbot/core';
import { type Emulator, type Message, startEmulator } from '@imbot/emulator';
import express from 'express';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ImbotRouter, imbot } from '../src/index.js';

/**
 * A bot in a group, on both clouds, over real HTTP: it is added to the group, a user @-mentions it,
 * and its streamed answer arrives in the group @-mentioning the user; the app edits it, then recalls it.
 */

const tencentApp = { sdkAppId: 1400000077, secretKey: 'groups-secret', admin: 'administrator' };
const rongApp = { appKey: 'groups-key', appSecret: 'groups-secret' };
const TOKEN = 'groups-callback-token';

interface Cloud {
  name: 'tencent' | 'rongcloud';
  bot: string;
  platform(emulator: Emulator, webhookUrl: string): { platform: BotPlatform; close(): Promise<void> };
}

const clouds: Cloud[] = [
  {
    name: 'tencent',
    bot: '@RBT#groups',
    platform: (emulator) => {
      const im = new TencentIm({ ...tencentApp, baseUrl: emulator.url, callbackToken: TOKEN });
      return { platform: im.platform, close: () => im.close() };
    },
  },
  {
    name: 'rongcloud',
    bot: 'bot-groups',
    platform: (emulator, webhookUrl) => {
      const rong = new RongCloud({ ...rongApp, baseUrl: emulator.url, callbackUrl: webhookUrl });
      return { platform: rong.platform, close: () => rong.close() };
    },
  },
];

describe.each(clouds)('a bot in a group on $name', (cloud) => {
  let emulator: Emulator;
  let server: Server;
  let router: ImbotRouter;
  let client: { platform: BotPlatform; close(): Promise<void> };
  let answered: { target: ReplyTarget; messageId: string }[];
  let errors: Error[];

  beforeEach(async () => {
    emulator = await startEmulator({ tencent: tencentApp, rongcloud: rongApp });
    const web = express();
    server = await new Promise<Server>((resolve) => {
      const s = web.listen(0, '127.0.0.1', () => resolve(s));
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    emulator.tencent.setCallback(`${url}/im/webhook`, TOKEN);
    client = cloud.platform(emulator, `${url}/im/webhook`);
    answered = [];
    errors = [];
    router = imbot({
      platform: client.platform,
      bots: [{ userId: cloud.bot }],
      onMessage: async (message, reply) => {
        const session = reply.stream({ minIntervalMs: 10 });
        session.on('open', ({ messageId }) => answered.push({ target: reply.target, messageId }));
        for (const word of `You asked: ${message.text}. Here is the answer.`.split(/(?<= )/)) {
          session.write(word);
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        await session.end();
      },
      onError: (error) => void errors.push(error),
    });
    web.use('/im', router);
    await router.ready;
  });

  afterEach(async () => {
    await router.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await client.close();
    await emulator.close();
  });

  const cloudOf = () => emulator[cloud.name];
  const botMessages = (): Message[] =>
    cloudOf()
      .groupConversation('team')
      .filter((m) => m.from === cloud.bot);

  it('is added, answers an @-mention with a stream @-mentioning the user, and the answer is edited and recalled', async () => {
    cloudOf().createGroup({ groupId: 'team', members: ['alice', 'bob'] });
    await client.platform.addBotToGroup(cloud.bot, 'team');
    expect(cloudOf().groups()).toEqual([
      expect.objectContaining({
        groupId: 'team',
        members: [
          { userId: 'alice', bot: false },
          { userId: 'bob', bot: false },
          { userId: cloud.bot, bot: true },
        ],
      }),
    ]);

    const sent = await cloudOf().userSendsToGroup({
      from: 'alice',
      groupId: 'team',
      text: 'when is the release?',
      mentions: [cloud.bot],
    });
    expect(sent.callback).toMatchObject({ ok: true, status: 200 });
    await expect.poll(() => botMessages().at(-1)?.state, { timeout: 5000 }).toBe('finished');
    expect(botMessages()).toEqual([
      expect.objectContaining({
        kind: 'stream',
        text: '@alice You asked: when is the release?. Here is the answer.',
        mentions: ['alice'],
      }),
    ]);

    const [reply] = answered;
    expect(reply?.target).toEqual({ botId: cloud.bot, groupId: 'team', mention: ['alice'] });
    const { target, messageId } = reply as { target: ReplyTarget; messageId: string };
    await client.platform.updateText?.(target, messageId, 'The release is on Friday.');
    const shown = botMessages().filter((m) => m.state !== 'recalled');
    expect(shown).toEqual([
      expect.objectContaining({ text: '@alice The release is on Friday.', mentions: ['alice'] }),
    ]);

    // Recalled by the id the app knows, whatever the cloud did to edit it.
    await client.platform.deleteMessage?.(target, messageId);
    expect(botMessages().every((m) => m.state === 'recalled')).toBe(true);
    expect(errors).toEqual([]);
  });

  it('is taken out of the group, and an @-mention then reaches it no more', async () => {
    cloudOf().createGroup({ groupId: 'team', members: ['alice'] });
    await client.platform.addBotToGroup(cloud.bot, 'team');
    await client.platform.removeBotFromGroup(cloud.bot, 'team');
    expect(cloudOf().groups()[0]?.members).toEqual([{ userId: 'alice', bot: false }]);
    const sent = await cloudOf().userSendsToGroup({
      from: 'alice',
      groupId: 'team',
      text: 'anyone?',
      mentions: [cloud.bot],
    });
    expect(sent.callback).toBeUndefined();
  });
});
