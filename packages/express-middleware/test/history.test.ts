/**
 * What a handler hands its model, through the Express middleware against the emulator: the user's
 * message with its pictures and files as a model message, and the conversation so far, read back
 * from the cloud on Tencent and from the transcript on RongCloud, each checked with the AI SDK's own
 * `modelMessageSchema`.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ModelMessage, type ReceivedMessage, type Reply, RongCloud, TencentIm } from '@imbot/core';
import { type Emulator, startEmulator } from '@imbot/emulator';
import { modelMessageSchema } from 'ai';
import express from 'express';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ImbotRouter, imbot } from '../src/index.js';

const TENCENT = { sdkAppId: 1400000077, secretKey: 'history-key', admin: 'administrator' };
const RONG = { appKey: 'history-app', appSecret: 'history-secret' };
const TOKEN = 'history-token';

const clouds = [
  { name: 'tencent' as const, bot: '@RBT#historian' },
  { name: 'rongcloud' as const, bot: 'historian' },
];

describe.each(clouds)('a handler on $name', (cloud) => {
  let emulator: Emulator;
  let server: Server;
  let client: TencentIm | RongCloud;
  let router: ImbotRouter;
  let seen: { message: ReceivedMessage; history: ModelMessage[] }[];
  let errors: Error[];
  let answer: (message: ReceivedMessage, reply: Reply) => Promise<unknown>;

  beforeEach(async () => {
    emulator = await startEmulator({ tencent: TENCENT, rongcloud: RONG });
    const web = express();
    server = await new Promise<Server>((resolve) => {
      const s = web.listen(0, '127.0.0.1', () => resolve(s));
    });
    const webhook = `http://127.0.0.1:${(server.address() as AddressInfo).port}/im/webhook`;
    emulator.tencent.setCallback(webhook, TOKEN);
    client =
      cloud.name === 'tencent'
        ? new TencentIm({ ...TENCENT, baseUrl: emulator.url, callbackToken: TOKEN })
        : new RongCloud({ ...RONG, baseUrl: emulator.url, callbackUrl: webhook });
    seen = [];
    errors = [];
    answer = (message, reply) => reply.stream().end(`You said: ${message.text}`);
    router = imbot({
      platform: client.platform,
      bots: [{ userId: cloud.bot }],
      onMessage: async (message, reply) => {
        seen.push({ message, history: await reply.history() });
        await answer(message, reply);
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
  const fromBot = (user: string) =>
    cloudOf()
      .conversation(user, cloud.bot)
      .filter((m) => m.from === cloud.bot);
  const valid = (messages: readonly unknown[]) => {
    for (const message of messages) expect(modelMessageSchema.parse(message)).toEqual(message);
  };

  it('reply.history() is the conversation so far, the bot’s answer an assistant turn, ending with the message', async () => {
    answer = (message, reply) =>
      reply.stream().end(message.text === 'my name is Ann' ? 'Nice to meet you, Ann.' : 'You are Ann.');
    await cloudOf().userSends({ from: 'ann', to: cloud.bot, text: 'my name is Ann' });
    await expect.poll(() => fromBot('ann')[0]?.state, { timeout: 5000 }).toBe('finished');
    await cloudOf().userSends({ from: 'ann', to: cloud.bot, text: 'what is my name?' });
    await expect.poll(() => seen.length, { timeout: 5000 }).toBe(2);
    expect(seen[0]?.history).toEqual([{ role: 'user', content: 'my name is Ann' }]);
    expect(seen[1]?.history).toEqual([
      { role: 'user', content: 'my name is Ann' },
      { role: 'assistant', content: 'Nice to meet you, Ann.' },
      { role: 'user', content: 'what is my name?' },
    ]);
    valid(seen[1]?.history ?? []);
    await expect.poll(() => fromBot('ann')[1]?.state, { timeout: 5000 }).toBe('finished');
    expect(errors).toEqual([]);
  });

  it('a picture reaches the handler as a user model message with the original picture’s URL, a file as a file part', async () => {
    const picture = 'https://cdn.example.com/photos/cat.png';
    await cloudOf().userSends({
      from: 'ann',
      to: cloud.bot,
      text: '',
      attachment: { type: 'image', url: picture },
    });
    await cloudOf().userSends({
      from: 'ann',
      to: cloud.bot,
      text: '',
      attachment: { type: 'file', url: 'https://cdn.example.com/files/4711', name: 'report.pdf' },
    });
    await expect.poll(() => seen.length, { timeout: 5000 }).toBe(2);
    const [image, file] = seen.map((s) => s.message.toModelMessage());
    expect(image).toEqual({
      role: 'user',
      content: [{ type: 'image', image: picture, mediaType: 'image/png' }],
    });
    expect(file).toEqual({
      role: 'user',
      content: [
        {
          type: 'file',
          data: 'https://cdn.example.com/files/4711',
          mediaType: 'application/pdf',
          filename: 'report.pdf',
        },
      ],
    });
    valid([image, file]);
    // The picture is in the history of the message after it, as the same part.
    expect(seen[1]?.history.slice(0, 1)).toEqual([image]);
  });

  it('an answer that rolled over past 12 KB is two assistant turns read from Tencent, one from a transcript', async () => {
    const long = `${'A streamed sentence that goes on. '.repeat(400)}The end.`;
    answer = async (message, reply) => {
      if (message.text === 'tell me all') await reply.stream({ maxChunkBytes: 8192 }).end(long);
    };
    await cloudOf().userSends({ from: 'ann', to: cloud.bot, text: 'tell me all' });
    await expect
      .poll(() => fromBot('ann').filter((m) => m.state === 'finished').length, { timeout: 10_000 })
      .toBe(cloud.name === 'tencent' ? 2 : 1);
    await cloudOf().userSends({ from: 'ann', to: cloud.bot, text: 'thanks' });
    await expect.poll(() => seen.length, { timeout: 5000 }).toBe(2);
    const history = seen[1]?.history ?? [];
    const turns = history.filter((m) => m.role === 'assistant').map((m) => m.content as string);
    expect(turns).toHaveLength(cloud.name === 'tencent' ? 2 : 1);
    expect(turns.join('')).toBe(long);
    valid(history);
  });

  // On RongCloud the slip, sent outside any handler, never reached the transcript; on Tencent the
  // history lists it as recalled, and it is left out.
  it('in a group, each member’s turn starts with their name, and a recalled answer is left out', async () => {
    cloudOf().createGroup({ groupId: 'team', members: ['ann', 'bob'] });
    await client.platform.addBotToGroup(cloud.bot, 'team');
    const recalled = await client.platform.sendText({ botId: cloud.bot, groupId: 'team' }, 'a slip');
    await client.platform.deleteMessage?.({ botId: cloud.bot, groupId: 'team' }, recalled.messageId);
    await cloudOf().userSendsToGroup({
      from: 'ann',
      groupId: 'team',
      text: 'I am Ann',
      mentions: [cloud.bot],
    });
    await expect.poll(() => seen.length, { timeout: 5000 }).toBe(1);
    await expect
      .poll(() => cloudOf().groupConversation('team').at(-1), { timeout: 5000 })
      .toMatchObject({ from: cloud.bot, state: 'finished' });
    await cloudOf().userSendsToGroup({
      from: 'bob',
      groupId: 'team',
      text: 'and I am Bob',
      mentions: [cloud.bot],
    });
    await expect.poll(() => seen.length, { timeout: 5000 }).toBe(2);
    expect(seen[1]?.history).toEqual([
      { role: 'user', content: 'ann: I am Ann' },
      { role: 'assistant', content: 'You said: I am Ann' },
      { role: 'user', content: 'bob: and I am Bob' },
    ]);
    valid(seen[1]?.history ?? []);
  });
});
