import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Reply, StoppedError, TencentIm } from '@imbot/core';
import { type Emulator, startEmulator } from '@imbot/emulator';
import express from 'express';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ImbotOptions, type ImbotRouter, imbot } from '../src/index.js';

/**
 * A robot in TUIKit's own chat, through `imbot()` over real HTTP with `streamFormat: 'tuikit'`:
 * TUIKit's Stop (`{chatbotPlugin: 2, src: 22, msgKey}`) ends the answer whose message it names and
 * no other, and an answer that fails ends in TUIKit's error state (`src: 23`).
 */

const app = { sdkAppId: 1400000099, secretKey: 'tuikit-secret', admin: 'administrator' };
const TOKEN = 'tuikit-callback-token';
const BOT = '@RBT#tuikit';

let emulator: Emulator;
let server: Server;
let router: ImbotRouter;
let im: TencentIm;
let web: express.Express;
let handled: string[];
let replies: Reply[];
let errors: Error[];
/** What each test's handler does with a message. */
let answer: (text: string, reply: Reply) => Promise<void>;

/** Mounts a router with `options` over the defaults. */
async function mount(options: Partial<ImbotOptions> = {}): Promise<void> {
  router = imbot({
    platform: im.platform,
    bots: [{ userId: BOT }],
    onMessage: async (message, reply) => {
      handled.push(message.text);
      replies.push(reply);
      await answer(message.text, reply);
    },
    onError: (error) => void errors.push(error),
    ...options,
  } as ImbotOptions);
  await router.ready;
}

beforeEach(async () => {
  emulator = await startEmulator({ tencent: app });
  web = express();
  server = await new Promise<Server>((resolve) => {
    const s = web.listen(0, '127.0.0.1', () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  emulator.tencent.setCallback(`${url}/im/webhook`, TOKEN);
  im = new TencentIm({ ...app, baseUrl: emulator.url, callbackToken: TOKEN, streamFormat: 'tuikit' });
  handled = [];
  replies = [];
  errors = [];
  web.use('/im', (req, res, next) => router(req, res, next));
  await mount();
});

afterEach(async () => {
  await router.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await im.close();
  await emulator.close();
});

/** Writes a word every 50 ms until the answer is interrupted (or 200 words are out). */
const longAnswer = async (_: string, reply: Reply) => {
  const session = reply.stream({ minIntervalMs: 10 });
  for (let i = 0; i < 200 && !reply.signal.aborted; i++) {
    session.write(`word${i} `);
    await sleep(50);
  }
  await session.end();
};

const botMessages = () => emulator.tencent.conversation('alice', BOT).filter((m) => m.from === BOT);

describe('TUIKit’s Stop', () => {
  it('names the streaming message: the answer ends within 3 s, text kept, reply.signal aborted, no handler', async () => {
    answer = longAnswer;
    await emulator.tencent.userSends({ from: 'alice', to: BOT, text: 'tell me everything' });
    await expect.poll(() => botMessages()[0]?.text ?? '', { timeout: 5000 }).toContain('word3 ');
    const streaming = botMessages()[0];
    expect(streaming).toMatchObject({
      state: 'streaming',
      chatbot: { chatbotPlugin: 2, src: 2, isFinished: 0 },
    });
    const shownBefore = streaming?.text as string;

    await emulator.tencent.userSendsChatbot({
      from: 'alice',
      to: BOT,
      data: { chatbotPlugin: 2, src: 22, msgKey: streaming?.msgKey },
    });
    await expect.poll(() => botMessages()[0]?.state, { timeout: 3000 }).toBe('finished');
    const finished = botMessages()[0];
    expect(finished?.chatbot).toMatchObject({ src: 2, isFinished: 1 });
    expect(finished?.text.startsWith(shownBefore)).toBe(true);
    expect(finished?.text.endsWith(' (stopped)')).toBe(true);
    expect(replies[0]?.signal.reason).toBeInstanceOf(StoppedError);
    expect(handled).toEqual(['tell me everything']);
    expect(errors).toEqual([]);
  });

  it('naming an older, finished message stops nothing', async () => {
    answer = async (_, reply) => {
      await reply.stream().end('A short first answer.');
    };
    await emulator.tencent.userSends({ from: 'alice', to: BOT, text: 'first' });
    await expect.poll(() => botMessages()[0]?.state, { timeout: 3000 }).toBe('finished');
    const older = botMessages()[0]?.msgKey;

    answer = longAnswer;
    await emulator.tencent.userSends({ from: 'alice', to: BOT, text: 'second' });
    await expect.poll(() => botMessages()[1]?.text ?? '', { timeout: 5000 }).toContain('word3 ');
    await emulator.tencent.userSendsChatbot({
      from: 'alice',
      to: BOT,
      data: { chatbotPlugin: 2, src: 22, msgKey: older },
    });
    const before = botMessages()[1]?.text ?? '';
    // The answer keeps growing after the stop was handled.
    await expect
      .poll(() => (botMessages()[1]?.text ?? '').length, { timeout: 3000 })
      .toBeGreaterThan(before.length + 20);
    expect(botMessages()[1]?.state).toBe('streaming');
    expect(replies[1]?.signal.aborted).toBe(false);
    expect(handled).toEqual(['first', 'second']);
    await emulator.tencent.userSends({ from: 'alice', to: BOT, text: '/stop' });
    await expect.poll(() => botMessages()[1]?.state, { timeout: 3000 }).toBe('finished');
  });
});

describe('an answer that fails', () => {
  it('ends in src 23 with the text written, never an open bubble', async () => {
    answer = async (_, reply) => {
      const session = reply.stream({ minIntervalMs: 10 });
      session.write('The start of an answer');
      await sleep(200);
      throw new Error('the model fell over');
    };
    await emulator.tencent.userSends({ from: 'alice', to: BOT, text: 'go' });
    await expect.poll(() => botMessages()[0]?.state, { timeout: 3000 }).toBe('finished');
    expect(botMessages()).toMatchObject([
      {
        text: 'The start of an answer',
        chatbot: { chatbotPlugin: 2, src: 23, errorInfo: 'The start of an answer', isFinished: 1 },
      },
    ]);
    expect(errors.map((e) => e.message)).toContain('the model fell over');
  });
});

describe('an answer that fails before it says anything', () => {
  it('leaves src 23, so that TUIKit’s thinking bubble and Stop button end', async () => {
    answer = async () => {
      throw new Error('no model configured');
    };
    await emulator.tencent.userSends({ from: 'alice', to: BOT, text: 'go' });
    await expect.poll(() => botMessages().length, { timeout: 3000 }).toBe(1);
    expect(botMessages()[0]).toMatchObject({
      state: 'finished',
      chatbot: { chatbotPlugin: 2, src: 23, isFinished: 1, errorInfo: 'The answer could not be completed.' },
    });
  });
});

describe('welcome and clarify', () => {
  it('answers the greeting with a welcome_msg card, chosen per user, and no handler sees it', async () => {
    await router.close();
    await mount({
      welcome: (userId) => ({ title: `Hello ${userId}`, items: ['Prices?', 'Opening hours?'] }),
    });
    answer = async () => {};
    await emulator.tencent.userSendsChatbot({ from: 'alice', to: BOT, data: { chatbotPlugin: 1, src: 7 } });
    await expect.poll(() => botMessages().length, { timeout: 3000 }).toBe(1);
    expect(botMessages()[0]?.chatbot).toEqual({
      chatbotPlugin: 1,
      src: 15,
      subtype: 'welcome_msg',
      content: { title: 'Hello alice', items: [{ content: 'Prices?' }, { content: 'Opening hours?' }] },
    });
    expect(handled).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('drops the greeting when no welcome is set', async () => {
    answer = async () => {};
    const sent = await emulator.tencent.userSendsChatbot({
      from: 'alice',
      to: BOT,
      data: { chatbotPlugin: 2, src: 7 },
    });
    expect(sent.callback).toMatchObject({ status: 200 });
    await sleep(100);
    expect(botMessages()).toEqual([]);
    expect(handled).toEqual([]);
  });

  it('reply.clarify sends a clarify_msg card; a tapped item arrives as the user’s text', async () => {
    answer = async (text, reply) => {
      if (text === 'hours') await reply.clarify('Which shop?', ['Main street', 'Harbour']);
      else await reply.text(`Open 9 to 5 at ${text}.`);
    };
    await emulator.tencent.userSends({ from: 'alice', to: BOT, text: 'hours' });
    await expect.poll(() => botMessages().length, { timeout: 3000 }).toBe(1);
    expect(botMessages()[0]?.chatbot).toMatchObject({
      src: 15,
      subtype: 'clarify_msg',
      content: { title: 'Which shop?', items: [{ content: 'Main street' }, { content: 'Harbour' }] },
    });
    // TUIKit sends a tapped item as a plain text message of its content.
    await emulator.tencent.userSends({ from: 'alice', to: BOT, text: 'Harbour' });
    await expect.poll(() => botMessages()[1]?.text, { timeout: 3000 }).toBe('Open 9 to 5 at Harbour.');
    expect(handled).toEqual(['hours', 'Harbour']);
  });
});

describe('Chatbot.OnC2CSignalMessage', () => {
  it('hands the signal to onSignal, whose result is the RspData; no handler sees it', async () => {
    await router.close();
    const signals: unknown[] = [];
    await mount({
      onSignal: (signal) => {
        signals.push(signal);
        return { msg: `got ${JSON.parse(signal.data).msg}` };
      },
    });
    const callback = await emulator.tencent.userSendsSignal({
      from: 'alice',
      to: BOT,
      data: '{"msg":"ping"}',
    });
    expect(JSON.parse(callback?.answer ?? '{}')).toMatchObject({
      ActionStatus: 'OK',
      ErrorCode: 0,
      RspData: '{"msg":"got ping"}',
    });
    expect(signals).toMatchObject([{ botId: BOT, from: 'alice', data: '{"msg":"ping"}' }]);
    expect(handled).toEqual([]);
  });

  it('acknowledges an unhandled signal with ErrorCode 1', async () => {
    const callback = await emulator.tencent.userSendsSignal({ from: 'alice', to: BOT, data: '{}' });
    expect(JSON.parse(callback?.answer ?? '{}')).toMatchObject({ ErrorCode: 1 });
    expect(handled).toEqual([]);
  });
});

describe('reply.history() with TUIKit answers', () => {
  it('reads the bot’s TUIKit message back as its assistant turn', async () => {
    const histories: unknown[] = [];
    answer = async (text, reply) => {
      histories.push(await reply.history());
      await reply.stream().end(text === 'my name is Ann' ? 'Nice to meet you, Ann.' : 'You are Ann.');
    };
    await emulator.tencent.userSends({ from: 'alice', to: BOT, text: 'my name is Ann' });
    await expect.poll(() => botMessages()[0]?.state, { timeout: 3000 }).toBe('finished');
    await emulator.tencent.userSends({ from: 'alice', to: BOT, text: 'what is my name?' });
    await expect.poll(() => histories.length, { timeout: 3000 }).toBe(2);
    expect(histories[1]).toEqual([
      { role: 'user', content: 'my name is Ann' },
      { role: 'assistant', content: 'Nice to meet you, Ann.' },
      { role: 'user', content: 'what is my name?' },
    ]);
  });
});
