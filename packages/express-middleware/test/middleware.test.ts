import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type BotSpec, type InboundMessage, TencentIm, ValidationError } from '@imbot/core';
import { tencentCallbackSign } from '@imbot/core/tencent';
import { type Emulator, startEmulator } from '@imbot/emulator';
import express5 from 'express';
import express4 from 'express4';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type ImbotOptions, type ImbotRouter, imbot } from '../src/index.js';

const app = { sdkAppId: 1400000000, secretKey: 'middleware-test-key', admin: 'administrator' };
const TOKEN = 'callback-token';
const BOT = '@RBT#helper';
const bots: BotSpec[] = [{ userId: BOT, name: 'Helper' }];

let emulator: Emulator;
let im: TencentIm;
let running: { server: Server; router: ImbotRouter }[] = [];

beforeEach(async () => {
  emulator = await startEmulator({ tencent: app });
  im = new TencentIm({ ...app, baseUrl: emulator.url });
});
afterEach(async () => {
  for (const { server, router } of running) {
    await router.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  running = [];
  await im.close();
  await emulator.close();
});

type ExpressLike = typeof express5;

/** Starts an Express app with imbot mounted at /im, pointed at by the emulator's callbacks. */
async function startApp(
  options: Partial<ImbotOptions> = {},
  { lib = express5, before }: { lib?: ExpressLike; before?: (app: ReturnType<ExpressLike>) => void } = {},
) {
  const server = lib();
  before?.(server);
  const router = imbot({
    platform: im.platform,
    bots,
    webhook: { token: TOKEN },
    onMessage: () => undefined,
    onError: () => undefined,
    ...options,
  });
  server.use('/im', router);
  const listening = await new Promise<Server>((resolve) => {
    const s = server.listen(0, '127.0.0.1', () => resolve(s));
  });
  running.push({ server: listening, router });
  const url = `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;
  emulator.tencent.setCallback(`${url}/im/webhook`, TOKEN);
  return { url, router };
}

const c2cBody = (overrides: Record<string, unknown> = {}) => ({
  CallbackCommand: 'Bot.OnC2CMessage',
  From_Account: 'alice',
  To_Account: BOT,
  MsgSeq: 1,
  MsgRandom: 2,
  MsgTime: Math.floor(Date.now() / 1000),
  MsgKey: `1_2_${Date.now()}`,
  MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'hi' } }],
  ...overrides,
});

/** Posts a callback by hand: valid unless told otherwise. */
async function post(
  url: string,
  {
    body = JSON.stringify(c2cBody()),
    sdkAppId = app.sdkAppId,
    time = Math.floor(Date.now() / 1000),
    sign,
  }: {
    body?: string;
    sdkAppId?: number;
    time?: number;
    sign?: string | null;
  } = {},
) {
  const query = new URLSearchParams({
    SdkAppid: String(sdkAppId),
    CallbackCommand: 'Bot.OnC2CMessage',
    contenttype: 'json',
    RequestTime: String(time),
  });
  const signature = sign === undefined ? tencentCallbackSign(TOKEN, time) : sign;
  if (signature !== null) query.set('Sign', signature);
  const response = await fetch(`${url}/im/webhook?${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  return { status: response.status, body: await response.text() };
}

describe('bots at start-up', () => {
  it('a fresh app creates its bots; health is 503 until then, 200 after', async () => {
    const { url, router } = await startApp();
    expect(await router.ready).toEqual({ created: [BOT], updated: [], unchanged: [], deleted: [] });
    const health = await fetch(`${url}/im/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ready' });
    expect(emulator.tencent.robots()).toMatchObject([{ userId: BOT, profile: { nick: 'Helper' } }]);
  });

  it('answers 503 on health while the bots are being ensured', async () => {
    emulator.faults.configure({ latencyMs: 300, apis: ['openim_robot_http_svc/get_all_robots'] });
    const { url, router } = await startApp();
    expect((await fetch(`${url}/im/health`)).status).toBe(503);
    await router.ready;
    expect((await fetch(`${url}/im/health`)).status).toBe(200);
  });

  it('a restart changes nothing; a changed Nick is updated', async () => {
    await (await startApp()).router.ready;
    expect(await (await startApp()).router.ready).toMatchObject({ unchanged: [BOT] });
    const renamed = await startApp({ bots: [{ userId: BOT, name: 'Helpful' }] });
    expect(await renamed.router.ready).toMatchObject({ updated: [BOT] });
    expect(emulator.tencent.robots()[0]?.profile.nick).toBe('Helpful');
  });

  it.each([
    ['no platform', { platform: undefined }, 'options.platform'],
    ['platform: {}', { platform: {} }, 'options.platform'],
    ['no onMessage', { onMessage: undefined }, 'options.onMessage'],
    ['webhook.path "hook"', { webhook: { path: 'hook', token: TOKEN } }, 'options.webhook.path'],
    ['bots: []', { bots: [] }, 'options.bots'],
  ])('refuses %s with a ValidationError naming it, sending nothing', (_, change, field) => {
    const options = {
      platform: im.platform,
      bots,
      webhook: { token: TOKEN },
      onMessage: () => undefined,
      ...change,
    };
    expect(() => imbot(options as never)).toThrow(
      expect.objectContaining({ name: 'ValidationError', field }),
    );
    expect(emulator.tencent.calls()).toEqual([]);
  });

  it('21 declared bots fail validation at once, before any request', () => {
    const many = Array.from({ length: 21 }, (_, i) => ({ userId: `@RBT#${i}` }));
    expect(() => imbot({ platform: im.platform, bots: many, onMessage: () => undefined })).toThrow(
      ValidationError,
    );
    expect(emulator.tencent.calls()).toHaveLength(0);
  });

  it('prune deletes only the undeclared bots', async () => {
    await im.createRobot({ userId: '@RBT#old' });
    await im.createRobot({ userId: BOT });
    const { router } = await startApp({ ensure: { prune: true } });
    expect(await router.ready).toMatchObject({ deleted: ['@RBT#old'], updated: [BOT] });
    expect(await im.getAllRobots()).toEqual([BOT]);
  });

  it('retries transient failures while ensuring the bots', async () => {
    emulator.faults.failNext('openim_robot_http_svc/get_all_robots', 5, 'http-502');
    const { router } = await startApp();
    expect(await router.ready).toMatchObject({ created: [BOT] });
  });
});

describe.each([
  ['Express 5', express5],
  ['Express 4', express4 as unknown as ExpressLike],
])('end to end on %s', (_, lib) => {
  it('a user message reaches the handler, which streams a reply the user sees finished and exact', async () => {
    const answer = 'Streaming, one piece at a time, until the reply is complete. 完成了！';
    const { router } = await startApp(
      {
        onMessage: async (message, reply) => {
          const session = reply.stream({ minIntervalMs: 10 });
          for (const word of `${answer} (you said: ${message.text})`.split(/(?<= )/)) {
            session.write(word);
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
          await session.end();
        },
      },
      { lib },
    );
    await router.ready;
    const sent = await emulator.tencent.userSends({ from: 'alice', to: BOT, text: 'hello bot' });
    expect(sent.callback).toMatchObject({ ok: true, status: 200 });
    expect(JSON.parse(sent.callback?.answer ?? '')).toEqual({
      ActionStatus: 'OK',
      ErrorInfo: '',
      ErrorCode: 0,
    });
    await expect
      .poll(() => emulator.tencent.conversation('alice', BOT).at(-1), { timeout: 5000 })
      .toMatchObject({
        from: BOT,
        text: `${answer} (you said: hello bot)`,
        state: 'finished',
        kind: 'stream',
      });
  });

  it('reply.text sends a plain message', async () => {
    const { router } = await startApp({ onMessage: (_m, reply) => reply.text('plain answer') }, { lib });
    await router.ready;
    await emulator.tencent.userSends({ from: 'alice', to: BOT, text: 'hi' });
    await expect.poll(() => emulator.tencent.conversation('alice', BOT).at(-1)?.text).toBe('plain answer');
  });
});

describe('bad requests never reach the handler, and the app keeps serving', () => {
  let handled: InboundMessage[];
  const texts = () => handled.map((m) => m.text);
  /** Sends a good message after the one under test and waits until it is handled: what came before is settled. */
  const sentinel = async () => {
    const body = JSON.stringify(
      c2cBody({
        MsgKey: `sentinel-${Math.random()}`,
        MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'sentinel' } }],
      }),
    );
    expect((await post(url, { body })).status).toBe(200);
    await expect.poll(() => texts().includes('sentinel')).toBe(true);
  };
  let errors: Error[];
  let url: string;

  beforeEach(async () => {
    handled = [];
    errors = [];
    ({ url } = await startApp({
      onMessage: (message) => {
        handled.push(message);
      },
      onError: (error) => {
        errors.push(error);
      },
    }));
  });

  const problems = () => errors.map((e) => (e as { problem?: string }).problem);

  const now = () => Math.floor(Date.now() / 1000);
  it.each([
    ['a wrong SdkAppid', () => ({ sdkAppId: 1400000001 }), 403, 'app-mismatch'],
    ['a missing Sign', () => ({ sign: null }), 401, 'missing-signature'],
    ['a forged Sign', () => ({ sign: tencentCallbackSign('guessed', now()) }), 401, 'bad-signature'],
    ['a RequestTime 61 s old', () => ({ time: now() - 61 }), 401, 'stale'],
    // Rounded up: the server reads its clock a moment later, and a second boundary crossed meanwhile
    // must not bring a RequestTime floored to the second back within the 60 s it accepts.
    ['a RequestTime 61 s ahead', () => ({ time: Math.ceil(Date.now() / 1000) + 61 }), 401, 'stale'],
    ['invalid JSON', () => ({ body: '{"CallbackCommand": "Bot.OnC2' }), 400, 'malformed'],
    [
      'a 2 MB body',
      () => ({ body: JSON.stringify(c2cBody({ Pad: 'x'.repeat(2 * 1024 * 1024) })) }),
      413,
      'too-large',
    ],
  ] as const)('refuses %s', async (_, request, status, problem) => {
    expect((await post(url, request())).status).toBe(status);
    expect(problems()).toEqual([problem]);
    // Still serving: a good request goes through, and it is the only message handled.
    await sentinel();
    expect(texts()).toEqual(['sentinel']);
  });

  it('hands a duplicate delivery to the handler once, answering both', async () => {
    const body = JSON.stringify(c2cBody({ MsgKey: 'same-key' }));
    expect((await post(url, { body })).status).toBe(200);
    expect((await post(url, { body })).status).toBe(200);
    await sentinel();
    expect(texts()).toEqual(['hi', 'sentinel']);
  });

  it('ignores a message from the bot itself', async () => {
    expect((await post(url, { body: JSON.stringify(c2cBody({ From_Account: BOT })) })).status).toBe(200);
    await sentinel();
    expect(texts()).toEqual(['sentinel']);
  });

  it('routes a group message only to the robots that were @-mentioned', async () => {
    await im.createRobot({ userId: BOT });
    await im.createRobot({ userId: '@RBT#other' });
    emulator.tencent.createGroup({ groupId: 'g1', members: [BOT, '@RBT#other'] });
    await emulator.tencent.userSendsToGroup({
      from: 'bob',
      groupId: 'g1',
      text: 'ping',
      mentions: ['@RBT#other'],
    });
    await emulator.tencent.userSendsToGroup({ from: 'bob', groupId: 'g1', text: 'hello', mentions: [BOT] });
    await expect.poll(() => handled.length).toBe(1);
    expect(handled[0]).toMatchObject({
      botId: BOT,
      text: 'hello',
      conversation: { type: 'group', groupId: 'g1' },
    });
  });
});

describe('body handling', () => {
  it('works when express.json() ran before it', async () => {
    const handled: string[] = [];
    const { url } = await startApp(
      { onMessage: (m) => void handled.push(m.text) },
      { before: (server) => server.use(express5.json()) },
    );
    expect((await post(url)).status).toBe(200);
    await expect.poll(() => handled).toEqual(['hi']);
  });

  it('without onError, answers a refusal itself with the body every entry gives, and logs it', async () => {
    const handled: unknown[] = [];
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const server = express5();
    const router = imbot({
      platform: im.platform,
      bots,
      webhook: { token: TOKEN },
      onMessage: () => undefined,
    });
    server.use('/im', router);
    server.use((err: unknown, _req: unknown, res: express5.Response, _next: unknown) => {
      handled.push(err);
      res.status(599).end();
    });
    const listening = await new Promise<Server>((resolve) => {
      const s = server.listen(0, '127.0.0.1', () => resolve(s));
    });
    running.push({ server: listening, router });
    const url = `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;
    const refused = await post(url, { sign: 'forged' });
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.body)).toEqual({
      error: 'WEBHOOK_VERIFICATION',
      problem: 'bad-signature',
      message: 'callback Sign does not match the token',
    });
    expect(handled).toEqual([]);
    expect(logged).toHaveBeenCalledWith('[imbot]', expect.objectContaining({ problem: 'bad-signature' }));
    logged.mockRestore();
  });

  it('says how to mount it when something consumed the body without keeping it', async () => {
    const errors: Error[] = [];
    const { url } = await startApp(
      { onError: (e) => void errors.push(e) },
      {
        before: (server) =>
          server.use((req, _res, next) => {
            req.on('data', () => undefined);
            req.on('end', () => next());
          }),
      },
    );
    expect((await post(url)).status).toBe(500);
    expect(errors[0]?.message).toMatch(/mount imbot before body parsers.*express\.json\(\{ verify/);
  });
});

describe('timing and lifecycle', () => {
  it('answers the webhook while the handler is still running', async () => {
    let release: () => void = () => undefined;
    const slow = new Promise<void>((resolve) => {
      release = resolve;
    });
    let running = 0;
    let finished = 0;
    const { url, router } = await startApp({
      onMessage: async () => {
        running++;
        await slow;
        finished++;
      },
    });
    await router.ready;
    // The handler cannot finish before release(): an answer now was sent before it.
    expect((await post(url)).status).toBe(200);
    const sent = await emulator.tencent.userSends({ from: 'bob', to: BOT, text: 'are you there?' });
    expect(sent.callback?.ok).toBe(true);
    await expect.poll(() => running).toBe(2);
    expect(finished).toBe(0);
    release();
    await expect.poll(() => finished).toBe(2);
  });

  it('reports a handler error and finishes the stream it had opened', async () => {
    const errors: { error: Error; message?: InboundMessage }[] = [];
    const { router } = await startApp({
      onMessage: async (_m, reply) => {
        const session = reply.stream();
        session.write('Let me think');
        await new Promise((resolve) => setTimeout(resolve, 50));
        throw new Error('model crashed');
      },
      onError: (error, context) => void errors.push({ error, ...context }),
    });
    await router.ready;
    await emulator.tencent.userSends({ from: 'alice', to: BOT, text: 'hi' });
    await expect.poll(() => errors.length).toBe(1);
    expect(errors[0]?.error.message).toBe('model crashed');
    expect(errors[0]?.message?.from).toBe('alice');
    await expect
      .poll(() => emulator.tencent.conversation('alice', BOT).at(-1))
      .toMatchObject({ from: BOT, text: 'Let me think', state: 'finished' });
  });

  it('a piped model that fails reaches onError, and the user sees the message finished', async () => {
    const errors: { error: Error; message?: InboundMessage }[] = [];
    const { router } = await startApp({
      onMessage: (_m, reply) =>
        reply.stream({ onSourceError: ' (answer interrupted)' }).pipeFrom(
          (async function* model() {
            yield 'Half an ';
            yield 'answer';
            throw new Error('the model answered HTTP 401');
          })(),
        ),
      onError: (error, context) => void errors.push({ error, ...context }),
    });
    await router.ready;
    await emulator.tencent.userSends({ from: 'alice', to: BOT, text: 'hi' });
    await expect.poll(() => errors.length).toBe(1);
    expect(errors[0]?.error).toMatchObject({
      code: 'STREAM_SOURCE',
      cause: { message: 'the model answered HTTP 401' },
    });
    expect(errors[0]?.message?.from).toBe('alice');
    await expect
      .poll(() => emulator.tencent.conversation('alice', BOT).at(-1))
      .toMatchObject({ from: BOT, text: 'Half an answer (answer interrupted)', state: 'finished' });
  });

  it('close() stops taking messages, waits for running handlers and finishes open streams', async () => {
    let finished = false;
    let started: () => void = () => undefined;
    const handlerStarted = new Promise<void>((resolve) => {
      started = resolve;
    });
    const { url, router } = await startApp({
      onMessage: async (_m, reply) => {
        reply.stream().write('an answer the app never ends');
        started();
        await new Promise((resolve) => setTimeout(resolve, 100));
        finished = true;
      },
    });
    await router.ready;
    await emulator.tencent.userSends({ from: 'alice', to: BOT, text: 'hi' });
    await handlerStarted;
    await router.close();
    expect(finished).toBe(true);
    expect(emulator.tencent.conversation('alice', BOT).at(-1)).toMatchObject({
      text: 'an answer the app never ends',
      state: 'finished',
    });
    expect((await post(url)).status).toBe(503);
  });
});

describe('a user who writes while the bot is still answering', () => {
  /** A model that yields each word after a pause, and stops when `signal` aborts. */
  async function* slowly(text: string, signal: AbortSignal) {
    for (const word of text.split(/(?<= )/)) {
      if (signal.aborted) return;
      yield word;
      await new Promise((resolve) => setTimeout(resolve, 15));
    }
  }
  const botReplies = () =>
    emulator.tencent
      .conversation('alice', BOT)
      .filter((m) => m.from === BOT)
      .map((m) => [m.text, m.state]);

  it('queue (the default): answers one message after the other, never interleaved', async () => {
    const log: string[] = [];
    const { router } = await startApp({
      onMessage: async (message, reply) => {
        log.push(`start ${message.text}`);
        await reply.stream().pipeFrom(slowly(`answer to ${message.text}`, reply.signal));
        log.push(`end ${message.text}`);
      },
    });
    await router.ready;
    await emulator.tencent.userSends({ from: 'alice', to: BOT, text: 'one' });
    await emulator.tencent.userSends({ from: 'alice', to: BOT, text: 'two' });
    await expect.poll(() => log).toEqual(['start one', 'end one', 'start two', 'end two']);
    await expect.poll(botReplies).toEqual([
      ['answer to one', 'finished'],
      ['answer to two', 'finished'],
    ]);
  });

  it('interrupt: the answer in progress is closed where it stands, and the new message is answered', async () => {
    const { router } = await startApp({
      concurrency: 'interrupt',
      onMessage: async (message, reply) => {
        const words =
          message.text === 'one' ? 'a very long answer that takes its time to come '.repeat(20) : 'short';
        await reply.stream().pipeFrom(slowly(words, reply.signal));
      },
    });
    await router.ready;
    await emulator.tencent.userSends({ from: 'alice', to: BOT, text: 'one' });
    await expect.poll(() => botReplies().length).toBe(1);
    await emulator.tencent.userSends({ from: 'alice', to: BOT, text: 'two' });
    await expect.poll(() => botReplies().at(-1)).toEqual(['short', 'finished']);
    const [first] = botReplies();
    expect(first?.[1]).toBe('finished');
    expect(String(first?.[0]).length).toBeLessThan(
      'a very long answer that takes its time to come '.length * 20,
    );
  });

  it('close({ timeoutMs }) ends a stalled answer with its closing call and reports what never ran', async () => {
    const errors: { error: Error; message?: InboundMessage }[] = [];
    const { router } = await startApp({
      onMessage: async (_m, reply) => {
        const session = reply.stream();
        session.write('Thinking');
        await new Promise(() => undefined); // a model that never answers
      },
      onError: (error, context) => void errors.push({ error, ...context }),
    });
    await router.ready;
    await emulator.tencent.userSends({ from: 'alice', to: BOT, text: 'stalls' });
    await emulator.tencent.userSends({ from: 'alice', to: BOT, text: 'waits behind it' });
    await expect.poll(() => botReplies().length).toBe(1);
    await router.close({ timeoutMs: 200 });
    expect(botReplies()).toEqual([['Thinking', 'finished']]);
    expect(errors.map((e) => [e.error.name, e.message?.text])).toEqual([
      ['NotHandledError', 'waits behind it'],
    ]);
  });
});

describe('the logger option', () => {
  it('logs the bots ready, each message in, and a refused callback, never the token', async () => {
    const lines: { level: string; fields: Record<string, unknown>; message?: string }[] = [];
    const at = (level: string) => (fields: object, message?: string) =>
      void lines.push({ level, fields: fields as Record<string, unknown>, ...(message ? { message } : {}) });
    const logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
    const handled: string[] = [];
    const { router, url } = await startApp({
      logger,
      onError: undefined,
      onMessage: (m) => void handled.push(m.text),
    });
    await router.ready;
    await emulator.tencent.userSends({ from: 'alice', to: BOT, text: 'hello' });
    await vi.waitFor(() => expect(handled).toEqual(['hello']));
    // A callback signed with another token: refused, and said so at warn level.
    emulator.tencent.setCallback(`${url}/im/webhook`, 'not-the-token');
    const refused = await emulator.tencent.userSends({ from: 'mallory', to: BOT, text: 'forged' });
    expect(refused.callback?.status).toBe(401);
    expect(lines.map(({ level, message }) => `${level} ${message}`)).toEqual([
      'info imbot: bots ready',
      'debug imbot: message in',
      'warn imbot: webhook refused: callback Sign does not match the token',
    ]);
    expect(lines[1]?.fields).toMatchObject({ platform: 'tencent', botId: BOT, from: 'alice' });
    expect(lines[2]?.fields).toMatchObject({ code: 'WEBHOOK_VERIFICATION', problem: 'bad-signature' });
    expect(JSON.stringify(lines)).not.toContain(TOKEN);
  });
});
