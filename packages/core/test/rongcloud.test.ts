import { type Emulator, startEmulator } from '@imbot/emulator';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ApiError,
  ensureBots,
  ImbotError,
  NetworkError,
  RongCloud,
  RongCloudApiError,
  type RongCloudOptions,
  TimeoutError,
  ValidationError,
} from '../src/index.js';

const app = { appKey: 'rong-test-key', appSecret: 'rong-test-secret' };
let emulator: Emulator;
let rong: RongCloud;

function client(options: Partial<RongCloudOptions> = {}): RongCloud {
  return new RongCloud({
    ...app,
    baseUrl: emulator.url,
    backupBaseUrl: emulator.rongcloud.backupUrl,
    retry: { retries: 2, minDelayMs: 1, maxDelayMs: 5 },
    ...options,
  });
}

beforeAll(async () => {
  emulator = await startEmulator({ rongcloud: app });
});
afterAll(async () => {
  await emulator.close();
});
beforeEach(() => {
  emulator.reset();
  rong = client();
});
afterEach(async () => {
  await rong.close();
});

const bot = (userId: string, extra: Record<string, unknown> = {}) => ({
  userId,
  name: `Bot ${userId}`,
  type: 'AI',
  profileUrl: 'https://example.com/bot.png',
  integrations: [],
  ...extra,
});

async function failure(promise: Promise<unknown>): Promise<ImbotError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ImbotError);
    return error as ImbotError;
  }
  throw new Error('expected the call to fail');
}

describe('bots', () => {
  it('creates, gets, updates, lists and deletes bots', async () => {
    await rong.createBot(bot('bot-1', { metadata: { team: 'support' } }));
    await rong.createBot(bot('bot-2'));
    expect(await rong.getBots(['bot-1', 'nobody'])).toMatchObject([
      {
        userId: 'bot-1',
        name: 'Bot bot-1',
        profileUrl: 'https://example.com/bot.png',
        metadata: { team: 'support' },
      },
    ]);
    await rong.updateBot({ userId: 'bot-1', name: 'Renamed' });
    expect((await rong.getBots(['bot-1']))[0]?.name).toBe('Renamed');
    const listed: string[] = [];
    for await (const b of rong.listBots({ pageSize: 1 })) listed.push(b.userId);
    expect(listed).toEqual(['bot-1', 'bot-2']);
    expect(emulator.rongcloud.calls().filter((c) => c.api === '/v3/bot/query.json')).toHaveLength(2);
    await rong.deleteBot('bot-2');
    expect(await rong.getBots(['bot-2'])).toEqual([]);
  });

  it('asks for more than 20 bots in chunks of 20, transparently', async () => {
    for (let i = 0; i < 10; i++) await rong.createBot(bot(`b${i}`));
    const ids = Array.from({ length: 45 }, (_, i) => `b${i}`);
    expect((await rong.getBots(ids)).map((b) => b.userId)).toEqual(
      Array.from({ length: 10 }, (_, i) => `b${i}`),
    );
    const sizes = emulator.rongcloud
      .calls()
      .filter((c) => c.api === '/v3/bot/get.json')
      .map((c) => (c.body as { userIds: string[] }).userIds.length);
    expect(sizes.sort((a, b) => a - b)).toEqual([5, 20, 20]);
  });

  it('creates, updates and deletes integrations', async () => {
    await rong.createBot(bot('bot-1'));
    await rong.createIntegration('bot-1', {
      type: 'webhook',
      callbackUrl: 'https://a.example/hook',
      events: ['message:private'],
    });
    await rong.updateIntegration('bot-1', { type: 'webhook', callbackUrl: 'https://b.example/hook' });
    expect((await rong.getBots(['bot-1']))[0]?.integrations).toMatchObject([
      { type: 'webhook', callbackUrl: 'https://b.example/hook' },
    ]);
    await rong.deleteIntegration('bot-1', 'webhook');
    expect((await rong.getBots(['bot-1']))[0]?.integrations).toEqual([]);
  });

  it.each([
    ['a user id over 64 characters', () => rong.createBot(bot('x'.repeat(65))), 'createBot.userId'],
    [
      'a name over 128 characters',
      () => rong.createBot(bot('b', { name: '名'.repeat(129) })),
      'createBot.name',
    ],
    [
      'a profileUrl over 256 characters',
      () => rong.createBot(bot('b', { profileUrl: `https://e/${'x'.repeat(250)}` })),
      'createBot.profileUrl',
    ],
    [
      'more than 16 metadata pairs',
      () =>
        rong.createBot(
          bot('b', { metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) }),
        ),
      'createBot.metadata',
    ],
    ['an empty message', () => rong.publishPrivate({ from: 'b', to: 'u', text: '' }), 'publishPrivate.text'],
  ])('refuses %s before any request', async (_, run, field) => {
    const error = await failure(run());
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe(field);
    expect(emulator.rongcloud.calls()).toHaveLength(0);
  });

  it('refuses an 11th bot through ensureBots before any request', async () => {
    const specs = Array.from({ length: 11 }, (_, i) => ({ userId: `bot-${i}` }));
    await expect(ensureBots(rong.platform, specs)).rejects.toThrow(
      'bots: 11 bots declared; rongcloud allows 10 per app',
    );
    expect(emulator.rongcloud.calls()).toHaveLength(0);
  });
});

describe('messages and streaming', () => {
  it('publishes private and group text messages from a bot', async () => {
    const sent = await rong.publishPrivate({ from: 'bot-1', to: ['alice', 'bob'], text: 'hello' });
    expect(sent.messageUIDs).toHaveLength(2);
    expect(emulator.rongcloud.conversation('alice', 'bot-1')).toMatchObject([
      { from: 'bot-1', text: 'hello' },
    ]);
    expect(emulator.rongcloud.calls()[0]?.body).toMatchObject({
      objectName: 'RC:TxtMsg',
      toUserId: ['alice', 'bob'],
    });
    await rong.publishGroup({ from: 'bot-1', groupId: 'g1', text: 'hi all' });
    expect(emulator.rongcloud.groupConversation('g1')).toMatchObject([{ text: 'hi all' }]);
  });

  it('streams one RC:StreamMsg message, finished and exact, to a user and to a group', async () => {
    const session = rong.openStream({ from: 'bot-1', to: 'alice' }, { minIntervalMs: 0 });
    const text = 'Streaming on RongCloud, piece by piece. 融云流式消息。';
    for (const word of text.split(/(?<= )/)) {
      session.write(word);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(await session.end()).toMatchObject({ reason: 'completed', messages: 1 });
    expect(emulator.rongcloud.conversation('alice', 'bot-1')).toMatchObject([
      { kind: 'stream', text, state: 'finished' },
    ]);
    const first = emulator.rongcloud.calls()[0]?.body as { content: Record<string, unknown> };
    expect(first.content).toMatchObject({ seq: 1, type: 'markdown', complete: false });
    await rong.openStream({ from: 'bot-1', groupId: 'g1' }).end('to the group');
    expect(emulator.rongcloud.groupConversation('g1')).toMatchObject([
      { kind: 'stream', text: 'to the group', state: 'finished' },
    ]);
  });

  it('closes its message when a call is reset before it is applied and the cloud then fails inside', async () => {
    const api = '/v3/message/private/publish_stream.json';
    const session = rong.openStream({ from: 'bot-1', to: 'bob' }, { minIntervalMs: 0 });
    session.write('Hello');
    await expect.poll(() => emulator.rongcloud.calls().length).toBe(1);
    // The second call never reaches the cloud; the next two meet its internal error (1000).
    emulator.faults.failNext(api, 1, 'reset-before');
    emulator.faults.failNext(api, 2);
    session.write(' world');
    await expect
      .poll(() => emulator.rongcloud.calls().filter((c) => c.api === api).length)
      .toBeGreaterThanOrEqual(4);
    const finish = await session.end(', bye.');
    expect(finish.undelivered).toBe('');
    const streamCalls = emulator.rongcloud.calls().filter((c) => c.api === api);
    expect(streamCalls.map((c) => c.fault)).toEqual([
      undefined,
      'reset-before',
      'error 1000',
      'error 1000',
      ...streamCalls.slice(4).map(() => undefined),
    ]);
    // The reset left the outcome unknown: the stream was read back, and found without ' world'.
    expect(emulator.rongcloud.calls().filter((c) => c.api === '/v3/message/get_stream.json')).toHaveLength(1);
    // One message, closed: nothing left open for the cloud to abandon, and every word in it or after.
    const messages = emulator.rongcloud.conversation('bob', 'bot-1');
    expect(messages.filter((m) => m.kind === 'stream')).toMatchObject([{ state: 'finished' }]);
    expect(messages.map((m) => m.text).join('')).toBe('Hello world, bye.');
  });
});

describe('call()', () => {
  it('reaches any API by path, JSON or form-encoded, and returns the whole answer', async () => {
    await rong.call('/v3/bot/create.json', { json: bot('bot-9') }, { retry: 'unapplied' });
    const answer = await rong.call(
      '/v3/bot/get.json',
      { json: { userIds: ['bot-9'] } },
      { retry: 'idempotent' },
    );
    expect(answer).toMatchObject({ code: 200, bots: [{ userId: 'bot-9' }] });
    const form = {
      fromUserId: 'bot-9',
      toGroupId: 'g2',
      objectName: 'RC:TxtMsg',
      content: '{"content":"via call"}',
    };
    expect(await rong.call('/message/group/publish.json', { form })).toMatchObject({ code: 200 });
    expect(emulator.rongcloud.groupConversation('g2')).toMatchObject([{ text: 'via call' }]);
  });
});

describe('failover and errors', () => {
  it('switches to the backup domain when the primary drops connections, and stays there', async () => {
    emulator.rongcloud.failOrigin('primary', 'reset');
    expect(await rong.getBots(['bot-1'])).toEqual([]);
    expect(rong.currentOrigin).toBe(emulator.rongcloud.backupUrl);
    // A create is not resent after a reset (it may have been applied), but the next call goes to the backup.
    await rong.createBot(bot('bot-1'));
    expect(await rong.getBots(['bot-1'])).toHaveLength(1);
  });

  it('switches on HTTP 503 and a timeout too, and back when the backup fails', async () => {
    emulator.rongcloud.failOrigin('primary', 'http-503');
    expect(await rong.getBots(['x'])).toEqual([]);
    expect(rong.currentOrigin).toBe(emulator.rongcloud.backupUrl);
    emulator.rongcloud.failOrigin('primary', null);
    emulator.rongcloud.failOrigin('backup', 'http-503');
    expect(await rong.getBots(['x'])).toEqual([]);
    expect(rong.currentOrigin).toBe(emulator.url);
    emulator.rongcloud.failOrigin('backup', null);
    const slow = client({ timeoutMs: 50 });
    emulator.faults.failNext('/v3/bot/get.json', 1, 'hang');
    expect(await slow.getBots(['x'])).toEqual([]);
    expect(slow.currentOrigin).toBe(emulator.rongcloud.backupUrl);
    await slow.close();
  });

  it('retries 1000 and 1050, backs off on 1008, and stops at a 1002', async () => {
    emulator.faults.failNext('/v3/bot/get.json', 1, { errorCode: 1000 });
    emulator.faults.failNext('/v3/bot/get.json', 1, { errorCode: 1008 });
    emulator.faults.failNext('/v3/bot/get.json', 1, { errorCode: 1050 });
    const patient = client({ retry: { retries: 3, minDelayMs: 1, maxDelayMs: 5 } });
    await patient.getBots(['x']);
    await patient.close();
    expect(emulator.rongcloud.calls().map((c) => c.status)).toEqual([500, 429, 504, 200]);
    emulator.rongcloud.reset();
    emulator.faults.failNext('/v3/bot/update.json', 3, { errorCode: 1002, errorInfo: 'bad parameter' });
    const error = await failure(rong.updateBot({ userId: 'bot-1', name: 'x' }));
    expect(error).toBeInstanceOf(RongCloudApiError);
    expect(error).toMatchObject({
      code: 'RONGCLOUD_API',
      errorCode: 1002,
      errorMessage: 'bad parameter',
      status: 400,
      retryable: false,
    });
    expect(emulator.rongcloud.calls()).toHaveLength(1);
  });

  it('reports a wrong App Secret as 1004 (HTTP 401) with advice, never the secret', async () => {
    const wrong = client({ appSecret: 'not-the-secret' });
    const error = await failure(wrong.getBots(['x']));
    expect(error).toMatchObject({ errorCode: 1004, status: 401 });
    expect(error.message).toContain('check the App Secret');
    expect(JSON.stringify(error) + error.message).not.toContain('not-the-secret');
    await wrong.close();
  });

  it('reports a body that is not JSON, a gateway error, a timeout and a refused connection', async () => {
    emulator.faults.failNext('/message/private/publish.json', 1, 'malformed');
    expect(await failure(rong.publishPrivate({ from: 'b', to: 'u', text: 'x' }))).toMatchObject({
      code: 'MALFORMED_RESPONSE',
    });
    emulator.faults.failNext('/message/private/publish.json', 1, 'http-502');
    const gateway = await failure(rong.publishPrivate({ from: 'b', to: 'u', text: 'x' }));
    expect(gateway).toBeInstanceOf(ApiError);
    expect(gateway).toMatchObject({ code: 'HTTP_STATUS', status: 502 });
    const slow = client({ timeoutMs: 50 });
    emulator.faults.failNext('/message/private/publish.json', 1, 'hang');
    expect(await failure(slow.publishPrivate({ from: 'b', to: 'u', text: 'x' }))).toBeInstanceOf(
      TimeoutError,
    );
    await slow.close();
    const nowhere = new RongCloud({ ...app, baseUrl: 'http://127.0.0.1:9', retry: { retries: 0 } });
    expect(await failure(nowhere.getBots(['x']))).toBeInstanceOf(NetworkError);
    await nowhere.close();
  });

  it('never lets more than 100 calls of one API arrive in any second', async () => {
    await Promise.all(Array.from({ length: 150 }, () => rong.getBots(['x'])));
    expect(emulator.rongcloud.rate()['/v3/bot/get.json']).toMatchObject({
      accepted: 150,
      rejected: 0,
      busiestWindow: 100,
    });
  });
});
