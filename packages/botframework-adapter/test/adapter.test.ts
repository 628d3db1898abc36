import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { TencentApiError, TencentIm } from '@imbot/core';
import { tencentCallbackSign } from '@imbot/core/tencent';
import { type Emulator, startEmulator } from '@imbot/emulator';
import { ActivityHandler, type TurnContext } from 'botbuilder';
import express from 'express';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ImBotAdapter, streamText } from '../src/index.js';

const app = { sdkAppId: 1400000000, secretKey: 'adapter-test-key', admin: 'administrator' };
const TOKEN = 'callback-token';
const BOT = '@RBT#helper';

let emulator: Emulator;
let im: TencentIm;
let adapter: ImBotAdapter;
let turnErrors: Error[];
let server: Server | undefined;

beforeEach(async () => {
  emulator = await startEmulator({ tencent: { ...app, robots: [BOT] } });
  im = new TencentIm({ ...app, baseUrl: emulator.url });
  adapter = new ImBotAdapter({ platform: im.platform, bots: [BOT], webhook: { token: TOKEN } });
  turnErrors = [];
  adapter.onTurnError = async (_context, error) => {
    turnErrors.push(error);
  };
});
afterEach(async () => {
  if (server) {
    server.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
  }
  await im.close();
  await emulator.close();
});

/** Serves `bot` at /im/webhook through `adapter.process`, and points the emulator's callbacks there. */
async function serve(
  bot: { run(context: TurnContext): Promise<void> },
  before?: (a: express.Express) => void,
): Promise<string> {
  const web = express();
  before?.(web);
  web.post('/im/webhook', (req, res) => adapter.process(req, res, (context) => bot.run(context)));
  server = await new Promise<Server>((resolve) => {
    const s = web.listen(0, '127.0.0.1', () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  emulator.tencent.setCallback(`${url}/im/webhook`, TOKEN);
  return url;
}

class EchoBot extends ActivityHandler {
  constructor() {
    super();
    this.onMessage(async (context, next) => {
      await context.sendActivity(`Echo: ${context.activity.text}`);
      await next();
    });
  }
}

const lastFromBot = (user = 'alice') =>
  emulator.tencent
    .conversation(user, BOT)
    .filter((m) => m.from === BOT)
    .at(-1);

describe('ImBotAdapter with the emulator', () => {
  it('runs an ActivityHandler echo bot: the user gets its answer', async () => {
    await serve(new EchoBot());
    const sent = await emulator.tencent.userSends({ from: 'alice', to: BOT, text: 'hello' });
    expect(sent.callback).toMatchObject({ ok: true, status: 200 });
    await expect
      .poll(() => lastFromBot())
      .toMatchObject({ text: 'Echo: hello', state: 'finished', kind: 'text' });
    expect(turnErrors).toEqual([]);
  });

  it('adapter.history(context) hands a turn the conversation as model messages, ending with its message', async () => {
    const histories: unknown[] = [];
    class RememberingBot extends ActivityHandler {
      constructor() {
        super();
        this.onMessage(async (context, next) => {
          histories.push(await adapter.history(context));
          await context.sendActivity(context.activity.text === 'I am Ann' ? 'Hello, Ann.' : 'You are Ann.');
          await next();
        });
      }
    }
    await serve(new RememberingBot());
    await emulator.tencent.userSends({ from: 'alice', to: BOT, text: 'I am Ann' });
    await expect.poll(() => lastFromBot()?.text).toBe('Hello, Ann.');
    await emulator.tencent.userSends({ from: 'alice', to: BOT, text: 'who am I?' });
    await expect.poll(() => histories.length).toBe(2);
    expect(histories[1]).toEqual([
      { role: 'user', content: 'I am Ann' },
      { role: 'assistant', content: 'Hello, Ann.' },
      { role: 'user', content: 'who am I?' },
    ]);
    expect(turnErrors).toEqual([]);
  });

  it('turns streamText into one streamed message, finished and exact', async () => {
    const answer = 'A streamed answer, token by token, in one message. 流式回答。';
    class StreamingBot extends ActivityHandler {
      constructor() {
        super();
        this.onMessage(async (context, next) => {
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
    await serve(new StreamingBot());
    await emulator.tencent.userSends({ from: 'alice', to: BOT, text: 'tell me' });
    await expect.poll(() => lastFromBot()?.state, { timeout: 5000 }).toBe('finished');
    const fromBot = emulator.tencent.conversation('alice', BOT).filter((m) => m.from === BOT);
    expect(fromBot).toMatchObject([{ kind: 'stream', text: answer, state: 'finished' }]);
    expect(fromBot[0]?.calls).toBeGreaterThan(1);
  });

  it('delivers a proactive message through continueConversationAsync', async () => {
    const reference = adapter.conversationReferenceFor({ userId: 'alice' });
    await adapter.continueConversationAsync('any-app-id', reference, async (context) => {
      await context.sendActivity('Your report is ready.');
    });
    expect(lastFromBot()).toMatchObject({ text: 'Your report is ready.' });
    await adapter.continueConversationAsync({}, reference, 'audience', async (context) => {
      await context.sendActivity('Second notice.');
    });
    expect(lastFromBot()?.text).toBe('Second notice.');
  });

  it('opens a one-to-one conversation with createConversationAsync', async () => {
    await adapter.createConversationAsync(
      '',
      'tencent',
      '',
      '',
      {
        isGroup: false,
        bot: { id: BOT, name: '' },
        members: [{ id: 'carol', name: '' }],
        activity: {} as never,
        channelData: {},
        tenantId: '',
        topicName: '',
      },
      async (context) => {
        await context.sendActivity('Hello Carol');
      },
    );
    expect(lastFromBot('carol')?.text).toBe('Hello Carol');
  });

  it('sends a failing REST call to onTurnError', async () => {
    await serve(new EchoBot());
    emulator.faults.failNext('openim/sendmsg', 1, { errorCode: 10004, errorInfo: 'invalid parameter' });
    await emulator.tencent.userSends({ from: 'alice', to: BOT, text: 'hello' });
    await expect.poll(() => turnErrors.length).toBe(1);
    expect(turnErrors[0]).toBeInstanceOf(TencentApiError);
    expect(turnErrors[0]).toMatchObject({ errorCode: 10004 });
  });

  it('edits and recalls a sent message (modify_c2c_msg, admin_msgwithdraw)', async () => {
    const reference = adapter.conversationReferenceFor({ userId: 'alice' });
    await adapter.continueConversation(reference, async (context) => {
      const sent = await context.sendActivity('draft');
      await context.updateActivity({ id: sent?.id, type: 'message', text: 'final' });
      expect(lastFromBot()?.text).toBe('final');
      await context.deleteActivity(sent?.id as string);
    });
    // An expect inside the turn that fails lands in onTurnError: check it stayed empty.
    expect(turnErrors).toEqual([]);
    expect(lastFromBot()?.state).toBe('recalled');
  });

  it('edits and recalls a group message (modify_group_msg, group_msg_recall)', async () => {
    emulator.tencent.createGroup({ groupId: 'g1' });
    await im.platform.addBotToGroup(BOT, 'g1');
    const reference = adapter.conversationReferenceFor({ groupId: 'g1' });
    const seen: string[] = [];
    await adapter.continueConversation(reference, async (context) => {
      const sent = await context.sendActivity('to the group');
      await context.updateActivity({ id: sent?.id, type: 'message', text: 'edited' });
      seen.push(emulator.tencent.groupConversation('g1').at(-1)?.text ?? '');
      await context.deleteActivity(sent?.id as string);
    });
    expect(turnErrors).toEqual([]);
    expect(seen).toEqual(['edited']);
    expect(emulator.tencent.groupConversation('g1').at(-1)?.state).toBe('recalled');
  });

  it('sends a recall the cloud refuses to onTurnError', async () => {
    const reference = adapter.conversationReferenceFor({ groupId: 'g2' });
    await adapter.continueConversation(reference, async (context) => {
      await context.deleteActivity('9999');
    });
    expect(turnErrors).toHaveLength(1);
    expect(turnErrors[0]).toMatchObject({ code: 'TENCENT_API', errorCode: 10030 });
  });

  it('answers a group message that @-mentions the robot, in the group, @-mentioning the sender', async () => {
    await serve(new EchoBot());
    emulator.tencent.createGroup({ groupId: 'g1' });
    await im.platform.addBotToGroup(BOT, 'g1');
    await emulator.tencent.userSendsToGroup({ from: 'bob', groupId: 'g1', text: 'ping', mentions: [BOT] });
    await expect
      .poll(() => emulator.tencent.groupConversation('g1').at(-1))
      .toMatchObject({ from: BOT, text: '@bob Echo: ping', mentions: ['bob'] });
  });
});

describe('bad requests are refused before any turn runs', () => {
  let url: string;
  let turns: string[];

  beforeEach(async () => {
    turns = [];
    url = await serve({
      run: async (context) => {
        turns.push(context.activity.text);
      },
    });
  });

  /** Sends a good message after the one under test and waits for its turn: what came before is settled. */
  async function sentinel(): Promise<void> {
    const text = { MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'sentinel' } }] };
    expect(await post({ body: body(text) })).toBe(200);
    await expect.poll(() => turns.includes('sentinel')).toBe(true);
  }

  const now = () => Math.floor(Date.now() / 1000);
  const body = (overrides: Record<string, unknown> = {}) =>
    JSON.stringify({
      CallbackCommand: 'Bot.OnC2CMessage',
      From_Account: 'alice',
      To_Account: BOT,
      MsgTime: now(),
      MsgKey: `k_${Math.random()}`,
      MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'hi' } }],
      ...overrides,
    });
  async function post(
    options: { body?: string; sdkAppId?: number; time?: number; sign?: string | null } = {},
  ) {
    const time = options.time ?? now();
    const query = new URLSearchParams({
      SdkAppid: String(options.sdkAppId ?? app.sdkAppId),
      RequestTime: String(time),
    });
    const sign = options.sign === undefined ? tencentCallbackSign(TOKEN, time) : options.sign;
    if (sign !== null) query.set('Sign', sign);
    const response = await fetch(`${url}/im/webhook?${query}`, {
      method: 'POST',
      body: options.body ?? body(),
    });
    return response.status;
  }

  it.each([
    ['a wrong SdkAppid', () => ({ sdkAppId: 1400000001 }), 403],
    ['a missing Sign', () => ({ sign: null }), 401],
    ['a forged Sign', () => ({ sign: tencentCallbackSign('guessed', now()) }), 401],
    ['a RequestTime 61 s old', () => ({ time: now() - 61 }), 401],
    // Rounded up: the server reads its clock a moment later, and a second boundary crossed meanwhile
    // must not bring a RequestTime floored to the second back within the 60 s it accepts.
    ['a RequestTime 61 s ahead', () => ({ time: Math.ceil(Date.now() / 1000) + 61 }), 401],
    ['invalid JSON', () => ({ body: '{"CallbackCommand":' }), 400],
    ['a 2 MB body', () => ({ body: body({ Pad: 'x'.repeat(2 * 1024 * 1024) }) }), 413],
  ] as const)('refuses %s', async (_, request, status) => {
    expect(await post(request())).toBe(status);
    await sentinel();
    expect(turns).toEqual(['sentinel']);
  });

  it('runs one turn for a duplicate delivery, and none for a message from the bot itself', async () => {
    const once = body({ MsgKey: 'same' });
    expect(await post({ body: once })).toBe(200);
    expect(await post({ body: once })).toBe(200);
    expect(await post({ body: body({ From_Account: BOT }) })).toBe(200);
    await sentinel();
    expect(turns).toEqual(['hi', 'sentinel']);
  });
});

describe('handleWebhook', () => {
  it('works on framework-neutral input and reports when its turns are done', async () => {
    const seen: string[] = [];
    const time = Math.floor(Date.now() / 1000);
    const result = await adapter.handleWebhook(
      {
        query: `SdkAppid=${app.sdkAppId}&RequestTime=${time}&Sign=${tencentCallbackSign(TOKEN, time)}`,
        rawBody: JSON.stringify({
          CallbackCommand: 'Bot.OnC2CMessage',
          From_Account: 'dave',
          To_Account: BOT,
          MsgTime: time,
          MsgKey: 'neutral',
          MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'neutral input' } }],
        }),
      },
      async (context) => {
        seen.push(context.activity.text);
      },
    );
    expect(result.status).toBe(200);
    expect(JSON.parse(result.body)).toEqual({ ActionStatus: 'OK', ErrorInfo: '', ErrorCode: 0 });
    await result.turns;
    expect(seen).toEqual(['neutral input']);
  });
});

describe('streams that outlive a pause', () => {
  it('a model pausing past idleTimeoutMs: the process lives, onTurnError runs, the message ends finished', async () => {
    adapter = new ImBotAdapter({
      platform: im.platform,
      bots: [BOT],
      webhook: { token: TOKEN },
      stream: { idleTimeoutMs: 200 },
    });
    turnErrors = [];
    adapter.onTurnError = async (_context, error) => {
      turnErrors.push(error);
    };
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      await serve({
        run: async (context) => {
          async function* model() {
            yield 'Before the pause. ';
            await new Promise((resolve) => setTimeout(resolve, 600));
            yield 'After the pause.';
          }
          await streamText(context, model(), { intervalMs: 10 });
        },
      });
      await emulator.tencent.userSends({ from: 'alice', to: BOT, text: 'pause' });
      await expect.poll(() => turnErrors.length, { timeout: 5000 }).toBe(1);
      expect(turnErrors[0]).toMatchObject({ code: 'STREAM_CLOSED' });
      const replies = emulator.tencent.conversation('alice', BOT).filter((m) => m.from === BOT);
      expect(replies.map((m) => [m.text, m.state])).toEqual([
        ['Before the pause. ', 'finished'],
        ['After the pause.', 'finished'],
      ]);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

describe('which bots the adapter answers for', () => {
  it('without bots, answers every robot of the app a message is addressed to, never one sent by a robot', async () => {
    adapter = new ImBotAdapter({ platform: im.platform, webhook: { token: TOKEN } });
    const turns: string[] = [];
    await serve({
      run: async (context) => void turns.push(`${context.activity.recipient?.id}:${context.activity.text}`),
    });
    await emulator.tencent.userSends({ from: 'alice', to: BOT, text: 'to helper' });
    await emulator.tencent.userSends({ from: '@RBT#other', to: BOT, text: 'from a robot' });
    await emulator.tencent.userSends({ from: 'alice', to: BOT, text: 'sentinel' });
    await expect.poll(() => turns).toEqual([`${BOT}:to helper`, `${BOT}:sentinel`]);
  });
});

describe('options', () => {
  const validation = (field: string) =>
    expect.objectContaining({ name: 'ValidationError', code: 'VALIDATION', field });
  it.each([
    ['no options', () => undefined, 'options'],
    ['no platform', () => ({ bots: [BOT] }), 'options.platform'],
    ['platform: {}', () => ({ platform: {}, bots: [BOT] }), 'options.platform'],
    ['bots: []', () => ({ platform: im.platform, bots: [], webhook: { token: TOKEN } }), 'options.bots'],
    [
      'bots: [42]',
      () => ({ platform: im.platform, bots: [42], webhook: { token: TOKEN } }),
      'options.bots.0',
    ],
    [
      'a Tencent id without @RBT#',
      () => ({ platform: im.platform, bots: ['helper'], webhook: { token: TOKEN } }),
      'bots[0].userId',
    ],
    ['no callback token on Tencent', () => ({ platform: im.platform, bots: [BOT] }), 'callbackToken'],
  ])('refuses %s with a ValidationError naming it, sending nothing', (_, options, field) => {
    expect(() => new ImBotAdapter(options() as never)).toThrow(validation(field));
    expect(emulator.tencent.calls()).toEqual([]);
  });

  it('takes { platform, webhook } alone: bots are optional', () => {
    expect(new ImBotAdapter({ platform: im.platform, webhook: { token: TOKEN } }).botIds).toEqual([]);
  });
});

describe('secrets', () => {
  it('a logged Tencent adapter or TurnContext shows no secret key, UserSig or callback token', async () => {
    const signed = new TencentIm({ ...app, baseUrl: emulator.url, callbackToken: 'token-never-to-be-seen' });
    const withToken = new ImBotAdapter({ platform: signed.platform });
    let logged = '';
    const time = Math.floor(Date.now() / 1000);
    const result = await withToken.handleWebhook(
      {
        query: `SdkAppid=${app.sdkAppId}&RequestTime=${time}&Sign=${tencentCallbackSign('token-never-to-be-seen', time)}`,
        rawBody: JSON.stringify({
          CallbackCommand: 'Bot.OnC2CMessage',
          From_Account: 'erin',
          To_Account: BOT,
          MsgTime: time,
          MsgKey: 'secrets',
          MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'hi' } }],
        }),
      },
      async (context) => {
        await context.sendActivity('hello'); // a UserSig is made and held
        logged = `${inspect(context, { depth: 10, showHidden: true })}${inspect(withToken, { depth: 10, showHidden: true })}`;
      },
    );
    await result.turns;
    expect(logged).toContain('erin');
    for (const secret of [app.secretKey, 'token-never-to-be-seen']) expect(logged).not.toContain(secret);
    expect(logged).not.toMatch(/eJ[\w*-]{40,}/); // a UserSig's shape
    await signed.close();
  });
});

describe('the logger option', () => {
  it('hears each message in and each refused callback, and the console hears nothing', async () => {
    const lines: string[] = [];
    const at = (level: string) => (_fields: object, message?: string) =>
      void lines.push(`${level} ${message}`);
    adapter = new ImBotAdapter({
      platform: im.platform,
      bots: [BOT],
      webhook: { token: TOKEN },
      logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') },
    });
    const consoleError = vi.spyOn(console, 'error');
    try {
      const url = await serve(new EchoBot());
      await emulator.tencent.userSends({ from: 'alice', to: BOT, text: 'hi' });
      await vi.waitFor(() => expect(lastFromBot()?.text).toBe('Echo: hi'));
      emulator.tencent.setCallback(`${url}/im/webhook`, 'not-the-token');
      expect(
        (await emulator.tencent.userSends({ from: 'mallory', to: BOT, text: 'x' })).callback?.status,
      ).toBe(401);
      expect(lines).toEqual([
        'debug imbot: message in',
        'warn imbot: webhook refused: callback Sign does not match the token',
      ]);
      expect(consoleError).not.toHaveBeenCalled();
    } finally {
      consoleError.mockRestore();
    }
  });
});
