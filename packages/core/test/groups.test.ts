import { type Emulator, startEmulator } from '@imbot/emulator';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type BotPlatform,
  type RichMessage,
  RongCloud,
  TencentApiError,
  TencentIm,
  ValidationError,
} from '../src/index.js';
import { parseRongCloudCallback } from '../src/rongcloud/index.js';
import { parseTencentCallback } from '../src/tencent/index.js';

/**
 * Groups and rich messages through the platform against the emulator over real HTTP, on both
 * clouds: robots in and out of groups (Tencent live-streaming groups included), images, files and
 * cards in each cloud's own elements, @-mentions, recalls, and refusals before any request.
 */

const tencentApp = { sdkAppId: 1400000099, secretKey: 'rich-secret', admin: 'administrator' };
const rongApp = { appKey: 'rich-key', appSecret: 'rich-secret' };
const ROBOT = '@RBT#rich';
const BOT = 'bot-rich';

let emulator: Emulator;
let im: TencentIm;
let rong: RongCloud;

beforeEach(async () => {
  emulator = await startEmulator({ tencent: { ...tencentApp, robots: [ROBOT] }, rongcloud: rongApp });
  im = new TencentIm({ ...tencentApp, baseUrl: emulator.url, retry: { retries: 0 } });
  rong = new RongCloud({ ...rongApp, baseUrl: emulator.url, retry: { retries: 0 } });
});
afterEach(async () => {
  await im.close();
  await rong.close();
  await emulator.close();
});

const card: RichMessage = {
  type: 'card',
  title: 'Vote',
  text: 'Friday or Monday?',
  buttons: [
    { title: 'Friday', type: 'message', value: 'friday' },
    { title: 'Calendar', type: 'url', url: 'https://example.com/cal' },
  ],
};
/** The card as it goes out: its `message` button's value signed for the bot and the conversation. */
const sentCard = {
  ...card,
  buttons: [
    { title: 'Friday', type: 'message', value: expect.stringMatching(/^imb1\./) },
    { title: 'Calendar', type: 'url', url: 'https://example.com/cal' },
  ],
};

describe('Tencent robots in groups', () => {
  it('joins an ordinary group with add_group_member and a live-streaming group with add_robots', async () => {
    emulator.tencent.createGroup({ groupId: 'work', type: 'Private' });
    emulator.tencent.createGroup({ groupId: 'live', type: 'AVChatRoom' });
    await im.platform.addBotToGroup(ROBOT, 'work');
    await im.platform.addBotToGroup(ROBOT, 'work');
    await im.platform.addBotToGroup(ROBOT, 'live');
    expect(emulator.tencent.groups().map((g) => [g.groupId, g.members])).toEqual([
      ['work', [{ userId: ROBOT, bot: true }]],
      ['live', [{ userId: ROBOT, bot: true }]],
    ]);
    const apis = emulator.tencent.calls().map((c) => c.api);
    expect(apis).toContain('group_open_http_svc/add_group_member');
    expect(apis).toContain('group_open_avchatroom_http_svc/add_robots');
    await im.platform.removeBotFromGroup(ROBOT, 'work');
    await im.platform.removeBotFromGroup(ROBOT, 'live');
    expect(emulator.tencent.groups().every((g) => g.members.length === 0)).toBe(true);
  });

  it('refuses a group that does not exist, and a robot that is not one, with the cloud codes', async () => {
    await expect(im.platform.addBotToGroup(ROBOT, 'nowhere')).rejects.toMatchObject({ errorCode: 10010 });
    emulator.tencent.createGroup({ groupId: 'work' });
    await expect(im.platform.addBotToGroup('@RBT#ghost', 'work')).rejects.toBeInstanceOf(TencentApiError);
    // A robot outside the group cannot speak in it.
    await expect(im.platform.sendText({ botId: ROBOT, groupId: 'work' }, 'hi')).rejects.toMatchObject({
      errorCode: 10007,
    });
  });

  it('sends images, files and cards in the cloud elements, @-mentioning in a group', async () => {
    emulator.tencent.createGroup({ groupId: 'work', members: ['alice', ROBOT] });
    const group = { botId: ROBOT, groupId: 'work', mention: ['alice'] };
    await im.platform.sendMessage(group, card);
    await im.platform.sendMessage(group, { type: 'image', url: 'https://example.com/p.png' });
    await im.platform.sendMessage(
      { botId: ROBOT, userId: 'bob' },
      {
        type: 'file',
        url: 'https://example.com/f/report.pdf',
        name: 'report.pdf',
        size: 1234,
      },
    );
    const sent = emulator.tencent.calls().filter((c) => c.api === 'group_open_http_svc/send_group_msg');
    expect(sent[0]?.body).toMatchObject({
      GroupAtInfo: [{ GroupAt_Account: 'alice' }],
      MsgBody: [
        { MsgType: 'TIMTextElem', MsgContent: { Text: '@alice' } },
        {
          MsgType: 'TIMCustomElem',
          MsgContent: { Desc: 'Vote\nFriday or Monday?\n1. Friday\n2. Calendar: https://example.com/cal' },
        },
      ],
    });
    expect(emulator.tencent.groupConversation('work')).toMatchObject([
      { content: sentCard, mentions: ['alice'] },
      { content: { type: 'image', url: 'https://example.com/p.png' }, mentions: ['alice'] },
    ]);
    expect(emulator.tencent.conversation('bob', ROBOT)).toMatchObject([
      { content: { type: 'file', url: 'https://example.com/f/report.pdf', name: 'report.pdf' } },
    ]);
  });
});

describe('RongCloud groups, recalls and rich messages', () => {
  it('joins and quits groups, and sends rich messages as RC:ImgMsg, RC:FileMsg and IMB:CardMsg', async () => {
    await rong.platform.addBotToGroup(BOT, 'team');
    expect(emulator.rongcloud.groups()).toMatchObject([{ groupId: 'team', members: [{ userId: BOT }] }]);
    const target = { botId: BOT, groupId: 'team', mention: ['alice'] };
    await rong.platform.sendMessage(target, card);
    await rong.platform.sendMessage(target, {
      type: 'file',
      url: 'https://example.com/r.pdf',
      name: 'r.pdf',
    });
    const published = emulator.rongcloud.calls().filter((c) => c.api === '/message/group/publish.json');
    expect(published.map((c) => (c.body as Record<string, string>).objectName)).toEqual([
      'IMB:CardMsg',
      'RC:FileMsg',
    ]);
    expect(published[0]?.body).toMatchObject({
      isMentioned: '1',
      pushContent: expect.stringContaining('1. Friday'),
    });
    expect(emulator.rongcloud.groupConversation('team')).toMatchObject([
      { content: sentCard, mentions: ['alice'] },
      { content: { type: 'file', name: 'r.pdf' }, mentions: ['alice'] },
    ]);
    await rong.platform.removeBotFromGroup(BOT, 'team');
    expect(emulator.rongcloud.groups()[0]?.members).toEqual([]);
  });

  it('recalls one-to-one and in groups, refusing another sender, and edits by recall and resend', async () => {
    const c2c = { botId: BOT, userId: 'alice' };
    const { messageId } = await rong.platform.sendText(c2c, 'first');
    await expect(
      rong.platform.deleteMessage?.({ botId: 'bot-other', userId: 'alice' }, messageId),
    ).rejects.toMatchObject({
      errorCode: 1002,
    });
    await rong.platform.updateText?.(c2c, messageId, 'second');
    await rong.platform.updateText?.(c2c, messageId, 'third');
    expect(
      emulator.rongcloud.conversation('alice', BOT).map((m) => [m.text, m.state, m.silent ?? false]),
    ).toEqual([
      ['first', 'recalled', true],
      ['second', 'recalled', true],
      ['third', 'finished', false],
    ]);
    await rong.platform.deleteMessage?.(c2c, messageId);
    expect(emulator.rongcloud.conversation('alice', BOT).at(-1)).toMatchObject({
      text: 'third',
      state: 'recalled',
    });
    expect(emulator.rongcloud.conversation('alice', BOT).at(-1)?.silent).toBeUndefined();
  });
});

describe.each([
  ['tencent', () => im.platform],
  ['rongcloud', () => rong.platform],
] as const)('bad rich messages on %s', (_, platformOf) => {
  it.each([
    [{ type: 'image', url: 'not a url' }, 'message.url'],
    [
      {
        type: 'card',
        title: 'T',
        buttons: Array.from({ length: 11 }, () => ({ title: 'b', type: 'message', value: 'v' })),
      },
      'message.buttons',
    ],
  ])('refuses %j before any request', async (message, field) => {
    const platform: BotPlatform = platformOf();
    const before = emulator.tencent.calls().length + emulator.rongcloud.calls().length;
    const error = await platform
      .sendMessage({ botId: 'b', userId: 'u' }, message as RichMessage)
      .catch((e) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.field).toBe(field);
    expect(emulator.tencent.calls().length + emulator.rongcloud.calls().length).toBe(before);
  });
});

describe('button presses in callbacks', () => {
  const press = JSON.stringify({ businessID: 'imbot_button', value: 'friday', messageId: '3' });
  it('a Tencent TIMCustomElem press becomes a message whose text is the value', () => {
    const parsed = parseTencentCallback({
      CallbackCommand: 'Bot.OnC2CMessage',
      From_Account: 'alice',
      To_Account: ROBOT,
      MsgSeq: 1,
      MsgRandom: 2,
      MsgTime: 1700000000,
      MsgKey: '1_2_1700000000',
      MsgBody: [{ MsgType: 'TIMCustomElem', MsgContent: { Data: press, Desc: 'friday' } }],
    });
    expect(parsed.messages[0]).toMatchObject({
      text: 'friday',
      attachments: [],
      action: { value: 'friday', messageId: '3' },
    });
  });

  it('a RongCloud IMB:ButtonMsg press becomes a message whose text is the value', () => {
    const parsed = parseRongCloudCallback({
      type: 'message:private',
      timestamp: 1700000000000,
      bot: { userId: BOT },
      data: { fromUserId: 'alice', toUserId: BOT, objectName: 'IMB:ButtonMsg', content: press, msgUID: 'U1' },
    });
    expect(parsed.messages[0]).toMatchObject({
      text: 'friday',
      attachments: [],
      action: { value: 'friday' },
    });
  });
});
