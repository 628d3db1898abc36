import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type BotPlatform, ensureBots, RongCloud, TencentIm } from '@imbot/core';
import { type Emulator, type Message, startEmulator } from '@imbot/emulator';
import { ActivityHandler, CardFactory, MessageFactory } from 'botbuilder';
import express from 'express';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ImBotAdapter } from '../src/index.js';

/**
 * A BotBuilder bot's hero card arrives as a card on both clouds, and the user's press of one of its
 * buttons comes back to the bot as a message; in a group, both @-mention the user.
 */

const tencentApp = { sdkAppId: 1400000088, secretKey: 'cards-secret', admin: 'administrator' };
const rongApp = { appKey: 'cards-key', appSecret: 'cards-secret' };
const TOKEN = 'cards-callback-token';

const clouds = [
  { name: 'tencent' as const, bot: '@RBT#cards' },
  { name: 'rongcloud' as const, bot: 'bot-cards' },
];

/** Answers "menu" with a hero card; anything else is echoed with the `value` the activity carried. */
class MenuBot extends ActivityHandler {
  readonly pressed: { text: string; value: unknown }[] = [];

  constructor() {
    super();
    this.onMessage(async (context, next) => {
      if (context.activity.text === 'menu') {
        const card = CardFactory.heroCard(
          'Lunch',
          'What would you like?',
          ['https://example.com/lunch.png'],
          [
            { type: 'imBack', title: 'Noodles', value: 'noodles please' },
            { type: 'openUrl', title: 'Full menu', value: 'https://example.com/menu' },
          ],
        );
        await context.sendActivity(MessageFactory.attachment(card));
      } else {
        this.pressed.push({ text: context.activity.text, value: context.activity.value });
        await context.sendActivity(`Coming up: ${context.activity.text}`);
      }
      await next();
    });
  }
}

describe.each(clouds)('a hero card on $name', (cloud) => {
  let emulator: Emulator;
  let server: Server;
  let platform: BotPlatform;
  let close: () => Promise<void>;
  let bot: MenuBot;
  let turnErrors: Error[];

  beforeEach(async () => {
    emulator = await startEmulator({ tencent: tencentApp, rongcloud: rongApp });
    const web = express();
    server = await new Promise<Server>((resolve) => {
      const s = web.listen(0, '127.0.0.1', () => resolve(s));
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/messages`;
    if (cloud.name === 'tencent') {
      emulator.tencent.setCallback(url, TOKEN);
      const im = new TencentIm({ ...tencentApp, baseUrl: emulator.url, callbackToken: TOKEN });
      platform = im.platform;
      close = () => im.close();
    } else {
      const rong = new RongCloud({ ...rongApp, baseUrl: emulator.url, callbackUrl: url });
      platform = rong.platform;
      close = () => rong.close();
    }
    await ensureBots(platform, [{ userId: cloud.bot, name: 'Lunch bot' }]);
    const adapter = new ImBotAdapter({ platform, bots: [cloud.bot] });
    turnErrors = [];
    adapter.onTurnError = async (_context, error) => void turnErrors.push(error);
    bot = new MenuBot();
    web.post('/api/messages', (req, res) => adapter.process(req, res, (context) => bot.run(context)));
  });

  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await close();
    await emulator.close();
  });

  const cloudOf = () => emulator[cloud.name];
  const fromBot = () =>
    cloudOf()
      .conversation('alice', cloud.bot)
      .filter((m) => m.from === cloud.bot);

  /** Alice asks for the menu one-to-one; resolves with the card message she got. */
  async function menu(): Promise<Message> {
    await cloudOf().userSends({ from: 'alice', to: cloud.bot, text: 'menu' });
    await expect.poll(() => fromBot().length, { timeout: 5000 }).toBe(1);
    return fromBot()[0] as Message;
  }

  it('one-to-one: arrives as a card, and its button press reaches the bot as a message', async () => {
    const card = await menu();
    expect(card.content).toEqual({
      type: 'card',
      title: 'Lunch',
      text: 'What would you like?',
      imageUrl: 'https://example.com/lunch.png',
      buttons: [
        // Signed for this bot and this chat: a press a client made up is refused.
        { title: 'Noodles', type: 'message', value: expect.stringMatching(/^imb1\./) },
        { title: 'Full menu', type: 'url', url: 'https://example.com/menu' },
      ],
    });
    // What a client without a card renderer shows.
    expect(card.text).toContain('Lunch\nWhat would you like?');

    const press = await cloudOf().userPresses({ from: 'alice', msgKey: card.msgKey, title: 'Noodles' });
    expect(press.callback).toMatchObject({ ok: true, status: 200 });
    await expect.poll(() => fromBot().at(-1)?.text, { timeout: 5000 }).toBe('Coming up: noodles please');
    expect(bot.pressed).toEqual([
      { text: 'noodles please', value: expect.objectContaining({ action: 'noodles please' }) },
    ]);
    expect(turnErrors).toEqual([]);
  });

  it('in a group: the card and the answer to its press @-mention the user', async () => {
    cloudOf().createGroup({ groupId: 'lunch', members: ['alice'] });
    await platform.addBotToGroup(cloud.bot, 'lunch');
    await cloudOf().userSendsToGroup({
      from: 'alice',
      groupId: 'lunch',
      text: 'menu',
      mentions: [cloud.bot],
    });
    const fromBot = () =>
      cloudOf()
        .groupConversation('lunch')
        .filter((m) => m.from === cloud.bot);
    await expect.poll(() => fromBot().length, { timeout: 5000 }).toBe(1);
    const card = fromBot()[0] as Message;
    expect(card).toMatchObject({ mentions: ['alice'], content: { type: 'card', title: 'Lunch' } });

    await cloudOf().userPresses({ from: 'alice', msgKey: card.msgKey, title: 'Noodles' });
    await expect
      .poll(() => fromBot().at(-1), { timeout: 5000 })
      .toMatchObject({ text: '@alice Coming up: noodles please', mentions: ['alice'] });
    expect(turnErrors).toEqual([]);
  });

  it('refuses a press of a button the card does not have', async () => {
    const msgKey = (await menu()).msgKey;
    await expect(cloudOf().userPresses({ from: 'alice', msgKey, value: 'pizza' })).rejects.toThrow(
      /no button/,
    );
    await expect(cloudOf().userPresses({ from: 'mallory', msgKey, title: 'Noodles' })).rejects.toThrow(
      /cannot see/,
    );
  });
});
