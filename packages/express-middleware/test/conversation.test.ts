import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type BotPlatform,
  type Reply,
  RongCloud,
  StoppedError,
  TencentIm,
  type TypingIndicator,
} from '@imbot/core';
import { type CallRecord, type Emulator, startEmulator } from '@imbot/emulator';
import express from 'express';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ImbotRouter, imbot } from '../src/index.js';

/**
 * The conversation a user expects, on both clouds through `imbot()`, over real HTTP: the cloud's
 * typing signal while the handler thinks, stored nowhere and never after the answer; and `/stop`
 * from the asker ending the answer at once, with the text shown so far.
 */

const tencentApp = { sdkAppId: 1400000088, secretKey: 'conversation-secret', admin: 'administrator' };
const rongApp = { appKey: 'conversation-key', appSecret: 'conversation-secret' };
const TOKEN = 'conversation-callback-token';

interface Cloud {
  name: 'tencent' | 'rongcloud';
  bot: string;
  /** Whether a call the emulator recorded is the cloud's typing signal. */
  isTyping(call: CallRecord): boolean;
  /** The REST APIs whose calls carry the answer's text. */
  textApi: RegExp;
  platform(emulator: Emulator, webhookUrl: string): { platform: BotPlatform; close(): Promise<void> };
}

const clouds: Cloud[] = [
  {
    name: 'tencent',
    bot: '@RBT#talker',
    isTyping: (call) =>
      call.api === 'openim/sendmsg' && (call.body as { MsgLifeTime?: number }).MsgLifeTime === 0,
    textApi: /send_stream_msg|stream_msg/,
    platform: (emulator) => {
      const im = new TencentIm({ ...tencentApp, baseUrl: emulator.url, callbackToken: TOKEN });
      return { platform: im.platform, close: () => im.close() };
    },
  },
  {
    name: 'rongcloud',
    bot: 'bot-talker',
    isTyping: (call) => call.api === '/statusmessage/private/publish.json',
    textApi: /publish_stream\.json$/,
    platform: (emulator, webhookUrl) => {
      const rong = new RongCloud({ ...rongApp, baseUrl: emulator.url, callbackUrl: webhookUrl });
      return { platform: rong.platform, close: () => rong.close() };
    },
  },
];

describe.each(clouds)('the conversation on $name', (cloud) => {
  let emulator: Emulator;
  let server: Server;
  let router: ImbotRouter;
  let client: { platform: BotPlatform; close(): Promise<void> };
  let handled: string[];
  let replies: Reply[];
  let errors: Error[];

  /** What each test's handler does with a message. */
  let answer: (text: string, reply: Reply) => Promise<void>;

  beforeEach(async () => {
    emulator = await startEmulator({ tencent: tencentApp, rongcloud: rongApp });
    const web = express();
    server = await new Promise<Server>((resolve) => {
      const s = web.listen(0, '127.0.0.1', () => resolve(s));
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    emulator.tencent.setCallback(`${url}/im/webhook`, TOKEN);
    client = cloud.platform(emulator, `${url}/im/webhook`);
    handled = [];
    replies = [];
    errors = [];
    router = imbot({
      platform: client.platform,
      bots: [{ userId: cloud.bot }],
      onMessage: async (message, reply) => {
        handled.push(message.text);
        replies.push(reply);
        await answer(message.text, reply);
      },
      onError: (error) => void errors.push(error),
    });
    // Through the router of the moment, so that a test can swap it for one with other options.
    web.use('/im', (req, res, next) => router(req, res, next));
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
  const calls = () => cloudOf().calls();

  it('shows the bot typing while the handler thinks, before the first text, storing nothing and sending none after the answer', async () => {
    answer = async (text, reply) => {
      await sleep(2000); // the model thinks
      const session = reply.stream({ minIntervalMs: 10 });
      await session.pipeFrom(
        (async function* () {
          yield* ['You said ', text, '.'];
        })(),
      );
    };
    await cloudOf().userSends({ from: 'alice', to: cloud.bot, text: 'hello' });
    await expect
      .poll(() => cloudOf().typing('alice', cloud.bot), { timeout: 2000 })
      .toMatchObject({ from: cloud.bot, to: 'alice' });
    await expect
      .poll(
        () =>
          cloudOf()
            .conversation('alice', cloud.bot)
            .find((m) => m.from === cloud.bot)?.state,
        {
          timeout: 5000,
        },
      )
      .toBe('finished');

    // Only the answer is in the conversation: the typing signal was stored nowhere.
    expect(cloudOf().conversation('alice', cloud.bot)).toEqual([
      expect.objectContaining({ from: 'alice', text: 'hello' }),
      expect.objectContaining({ from: cloud.bot, text: 'You said hello.', state: 'finished' }),
    ]);
    const typing = calls().filter((c) => cloud.isTyping(c));
    const text = calls().filter((c) => cloud.textApi.test(c.api));
    expect(typing.length).toBeGreaterThanOrEqual(1);
    expect(typing.every((c) => c.status === 200)).toBe(true);
    expect(Math.max(...typing.map((c) => c.id))).toBeLessThan(Math.min(...text.map((c) => c.id)));
    // The indicator stopped with the first text: nothing can renew it after the answer.
    const indicator = replies[0]?.typing as TypingIndicator;
    expect(indicator.state).toBe('stopped');
    expect(indicator.counts.sent).toBe(typing.length);
    if (cloud.name === 'rongcloud')
      expect(cloudOf().conversation('alice', cloud.bot).at(-1)?.completeReason).toBe('completed');
    // The user's client no longer shows it: the answer arrived.
    expect(cloudOf().typing('alice', cloud.bot)).toBeUndefined();
    expect(errors).toEqual([]);
  });

  it('pipes an AI SDK fullStream with a tool call in one line, the typing signal naming the tool while it runs', async () => {
    answer = async (text, reply) => {
      async function* fullStream() {
        yield { type: 'start' };
        yield { type: 'tool-call', toolCallId: 'c1', toolName: 'weather', input: { city: text } };
        await sleep(1500); // the tool runs
        yield { type: 'tool-result', toolCallId: 'c1', toolName: 'weather', output: 'sunny' };
        yield { type: 'text-delta', id: 't', text: `Sunny in ${text}.` };
        yield { type: 'finish', finishReason: 'stop' };
      }
      await reply.stream({ minIntervalMs: 10 }).pipeFrom(fullStream());
    };
    await cloudOf().userSends({ from: 'dave', to: cloud.bot, text: 'Paris' });
    await expect
      .poll(() => cloudOf().typing('dave', cloud.bot)?.statusText, { timeout: 3000 })
      .toBe('weather');
    await expect
      .poll(
        () =>
          cloudOf()
            .conversation('dave', cloud.bot)
            .find((m) => m.from === cloud.bot)?.state,
        {
          timeout: 5000,
        },
      )
      .toBe('finished');
    expect(cloudOf().conversation('dave', cloud.bot).at(-1)?.text).toBe('Sunny in Paris.');
    const typing = calls().filter((c) => cloud.isTyping(c));
    const text = calls().filter((c) => cloud.textApi.test(c.api));
    expect(typing.length).toBe(2);
    expect(Math.max(...typing.map((c) => c.id))).toBeLessThan(Math.min(...text.map((c) => c.id)));
    expect(errors).toEqual([]);
  });

  it('typing: false sends no typing signal', async () => {
    await router.close();
    router = imbot({
      platform: client.platform,
      bots: [{ userId: cloud.bot }],
      typing: false,
      onMessage: async (_message, reply) => {
        await sleep(100);
        await reply.text('after a while');
      },
    });
    await router.ready;
    await cloudOf().userSends({ from: 'carol', to: cloud.bot, text: 'hi' });
    await expect
      .poll(() => cloudOf().conversation('carol', cloud.bot).at(-1)?.text, { timeout: 5000 })
      .toBe('after a while');
    expect(calls().filter((c) => cloud.isTyping(c))).toEqual([]);
  });

  /** An answer that streams a word every 50 ms for 10 s unless its signal aborts. */
  const longAnswer = async (_text: string, reply: Reply) => {
    const session = reply.stream({ minIntervalMs: 10 });
    for (let i = 0; i < 200 && !reply.signal.aborted; i++) {
      session.write(`word${i} `);
      await sleep(50);
    }
    await session.end();
  };

  it('/stop from the asker ends the answer at once with the text shown, aborts reply.signal, and reaches no handler', async () => {
    answer = longAnswer;
    await cloudOf().userSends({ from: 'alice', to: cloud.bot, text: 'tell me everything' });
    const botMessage = () =>
      cloudOf()
        .conversation('alice', cloud.bot)
        .find((m) => m.from === cloud.bot);
    await expect.poll(() => botMessage()?.text ?? '', { timeout: 5000 }).toContain('word3 ');
    const shownBefore = botMessage()?.text as string;

    const stoppedAt = Date.now();
    await cloudOf().userSends({ from: 'alice', to: cloud.bot, text: ' /stop ' });
    await expect.poll(() => botMessage()?.state, { timeout: 3000 }).toBe('finished');
    expect(Date.now() - stoppedAt).toBeLessThan(3000);

    const finished = botMessage()?.text as string;
    expect(finished.startsWith(shownBefore)).toBe(true);
    expect(finished.endsWith(' (stopped)')).toBe(true);
    expect(finished).not.toContain('word199');
    expect(replies[0]?.signal.aborted).toBe(true);
    expect(replies[0]?.signal.reason).toBeInstanceOf(StoppedError);
    // RongCloud's stream carries why it ended.
    if (cloud.name === 'rongcloud') expect(botMessage()?.completeReason).toBe('stopped');
    expect(handled).toEqual(['tell me everything']);
    expect(errors).toEqual([]);
  });

  it('in a group, another member’s /stop does not stop the answer; the asker’s does', async () => {
    answer = longAnswer;
    cloudOf().createGroup({ groupId: 'team', members: ['alice', 'bob'] });
    await client.platform.addBotToGroup(cloud.bot, 'team');
    await cloudOf().userSendsToGroup({
      from: 'alice',
      groupId: 'team',
      text: 'explain the plan',
      mentions: [cloud.bot],
    });
    const botMessage = () =>
      cloudOf()
        .groupConversation('team')
        .find((m) => m.from === cloud.bot);
    await expect.poll(() => botMessage()?.text ?? '', { timeout: 5000 }).toContain('word2 ');

    // The stop is decided before the cloud hears back: once bob's callback is answered, it is done.
    const bobs = await cloudOf().userSendsToGroup({
      from: 'bob',
      groupId: 'team',
      text: '/stop',
      mentions: [cloud.bot],
    });
    expect(bobs.callback).toMatchObject({ ok: true, status: 200 });
    expect(replies[0]?.signal.aborted).toBe(false);
    expect(botMessage()?.state).toBe('streaming');

    await cloudOf().userSendsToGroup({ from: 'alice', groupId: 'team', text: '停止', mentions: [cloud.bot] });
    await expect.poll(() => botMessage()?.state, { timeout: 3000 }).toBe('finished');
    expect(botMessage()?.text.endsWith(' (stopped)')).toBe(true);
    expect(replies[0]?.signal.reason).toMatchObject({ code: 'STOPPED', by: 'alice' });
    expect(handled).toEqual(['explain the plan']);
    expect(errors).toEqual([]);
  });

  it('a stopAdmins user stops any answer in the group; with stopWords: [] a /stop is an ordinary message', async () => {
    await router.close();
    router = imbot({
      platform: client.platform,
      bots: [{ userId: cloud.bot }],
      stopAdmins: ['carol'],
      onMessage: async (message, reply) => {
        handled.push(message.text);
        replies.push(reply);
        await longAnswer(message.text, reply);
      },
    });
    await router.ready;
    cloudOf().createGroup({ groupId: 'ops', members: ['alice', 'carol'] });
    await client.platform.addBotToGroup(cloud.bot, 'ops');
    await cloudOf().userSendsToGroup({
      from: 'alice',
      groupId: 'ops',
      text: 'status?',
      mentions: [cloud.bot],
    });
    await expect.poll(() => replies.length, { timeout: 5000 }).toBe(1);
    await cloudOf().userSendsToGroup({ from: 'carol', groupId: 'ops', text: '/stop', mentions: [cloud.bot] });
    expect(replies[0]?.signal.reason).toMatchObject({ code: 'STOPPED', by: 'carol' });
    expect(handled).toEqual(['status?']);

    await router.close();
    router = imbot({
      platform: client.platform,
      bots: [{ userId: cloud.bot }],
      stopWords: [],
      onMessage: (message, reply) => {
        handled.push(message.text);
        return reply.text(`got ${message.text}`);
      },
    });
    await router.ready;
    await cloudOf().userSends({ from: 'erin', to: cloud.bot, text: '/stop' });
    await expect
      .poll(() => cloudOf().conversation('erin', cloud.bot).at(-1)?.text, { timeout: 5000 })
      .toBe('got /stop');
  });
});
