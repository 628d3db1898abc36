import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rongCloudHeaders } from '@imbot/core/internal';
import { verifyRongCloudCallback } from '@imbot/core/rongcloud';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../src/index.js';

const app = { appKey: 'emu-rong-key', appSecret: 'emu-rong-secret' };
let emulator: Emulator;

beforeEach(async () => {
  emulator = await startEmulator({ rongcloud: app });
});
afterEach(async () => {
  await emulator.close();
});

async function call(
  path: string,
  body: unknown,
  options: { origin?: string; headers?: Record<string, string>; form?: boolean } = {},
): Promise<{ status: number; json: Record<string, unknown> | undefined }> {
  const headers = options.headers ?? rongCloudHeaders(app);
  const text = options.form
    ? new URLSearchParams(body as Record<string, string>).toString()
    : JSON.stringify(body);
  const response = await fetch(`${options.origin ?? emulator.url}${path}`, {
    method: 'POST',
    headers: {
      ...headers,
      'content-type': options.form ? 'application/x-www-form-urlencoded' : 'application/json',
    },
    body: text,
  });
  const raw = await response.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(raw);
  } catch {
    json = undefined;
  }
  return { status: response.status, json };
}

const bot = (userId: string) => ({ userId, name: userId, type: 'AI', profileUrl: '', integrations: [] });

describe('RongCloud request checks', () => {
  it('answers a signed request, and 401 with code 1004 for a bad or missing signature', async () => {
    expect(await call('/v3/bot/get.json', { userIds: ['x'] })).toEqual({
      status: 200,
      json: { code: 200, bots: [] },
    });
    const forged = rongCloudHeaders({ ...app, appSecret: 'guessed' });
    expect(await call('/v3/bot/get.json', { userIds: ['x'] }, { headers: forged })).toMatchObject({
      status: 401,
      json: { code: 1004 },
    });
    expect(await call('/v3/bot/get.json', { userIds: ['x'] }, { headers: {} })).toMatchObject({
      status: 401,
      json: { code: 1004 },
    });
    const other = rongCloudHeaders({ appKey: 'other', appSecret: app.appSecret });
    expect(await call('/v3/bot/get.json', { userIds: ['x'] }, { headers: other })).toMatchObject({
      status: 401,
      json: { code: 1001 },
    });
  });

  it('takes the RC- prefixed headers too, and refuses a nonce over 18 characters', async () => {
    const h = rongCloudHeaders(app);
    const prefixed = Object.fromEntries(Object.entries(h).map(([k, v]) => [`RC-${k}`, v]));
    expect((await call('/v3/bot/get.json', { userIds: ['x'] }, { headers: prefixed })).status).toBe(200);
    const longNonce = rongCloudHeaders({ ...app, nonce: 'n'.repeat(19) });
    expect(await call('/v3/bot/get.json', { userIds: ['x'] }, { headers: longNonce })).toMatchObject({
      status: 400,
      json: { code: 1002 },
    });
  });

  it('allows 100 calls of an API in any second: a burst of 150 gets exactly 50 refused with 429 and 1008', async () => {
    const answers = await Promise.all(
      Array.from({ length: 150 }, () => call('/v3/bot/get.json', { userIds: ['x'] })),
    );
    expect(answers.filter((a) => a.status === 200)).toHaveLength(100);
    expect(answers.filter((a) => a.status === 429 && a.json?.code === 1008)).toHaveLength(50);
  });
});

describe('RongCloud bots and limits', () => {
  it('keeps at most 10 bots, refuses a duplicate and over-long fields with 1002', async () => {
    for (let i = 0; i < 10; i++) expect((await call('/v3/bot/create.json', bot(`b${i}`))).status).toBe(200);
    expect(await call('/v3/bot/create.json', bot('b10'))).toMatchObject({
      status: 400,
      json: { code: 1002 },
    });
    expect(await call('/v3/bot/create.json', bot('b0'))).toMatchObject({ status: 400, json: { code: 1002 } });
    expect((await call('/v3/bot/create.json', { ...bot('x'.repeat(65)) })).json?.code).toBe(1002);
    expect(
      (await call('/v3/bot/get.json', { userIds: Array.from({ length: 21 }, (_, i) => `b${i}`) })).json?.code,
    ).toBe(1002);
    const listed = await fetch(`${emulator.url}/_emulator/rongcloud/bots`);
    expect(((await listed.json()) as unknown[]).length).toBe(10);
    const page = await call('/v3/bot/query.json', { page: 2, pageSize: 4 });
    expect(page.json).toMatchObject({ total: 10, hasNext: true });
    expect(page.json?.bots).toHaveLength(4);
  });
});

describe('RongCloud origins', () => {
  it('serves the same app on a backup origin, and either can be made to fail', async () => {
    await call('/v3/bot/create.json', bot('b1'));
    const fromBackup = await call(
      '/v3/bot/get.json',
      { userIds: ['b1'] },
      { origin: emulator.rongcloud.backupUrl },
    );
    expect(fromBackup.json?.bots).toHaveLength(1);
    emulator.rongcloud.failOrigin('primary', 'http-503');
    expect((await call('/v3/bot/get.json', { userIds: ['b1'] })).status).toBe(503);
    emulator.rongcloud.failOrigin('primary', 'reset');
    await expect(call('/v3/bot/get.json', { userIds: ['b1'] })).rejects.toThrow();
    emulator.rongcloud.failOrigin('primary', null);
    expect((await call('/v3/bot/get.json', { userIds: ['b1'] })).status).toBe(200);
  });
});

describe('RongCloud streaming', () => {
  const stream = (content: Record<string, unknown>) =>
    call('/v3/message/private/publish_stream.json', {
      fromUserId: 'b1',
      toUserId: 'u',
      objectName: 'RC:StreamMsg',
      content,
    });

  it('assembles chunks by seq until complete, and refuses what breaks the order', async () => {
    const first = await stream({ content: 'Hel', seq: 1, type: 'markdown' });
    const uid = first.json?.messageUID as string;
    expect(uid).toBeTruthy();
    expect((await stream({ content: 'x', seq: 3, messageUID: uid })).json?.code).toBe(1002);
    expect((await stream({ content: 'lo', seq: 2, messageUID: uid, complete: true })).json?.code).toBe(200);
    expect((await stream({ content: '!', seq: 3, messageUID: uid })).json?.code).toBe(1002);
    expect(emulator.rongcloud.conversation('u', 'b1')).toMatchObject([
      { text: 'Hello', state: 'finished', kind: 'stream' },
    ]);
  });

  it('reads a stream back with get_stream.json: its content so far, last seq and whether complete', async () => {
    const uid = (await stream({ content: 'Hel', seq: 1, type: 'markdown' })).json?.messageUID as string;
    const read = () => call('/v3/message/get_stream.json', { messageUID: uid });
    expect((await read()).json).toMatchObject({
      code: 200,
      messageUID: uid,
      content: 'Hel',
      seq: 1,
      complete: false,
    });
    await stream({ content: 'lo', seq: 2, messageUID: uid, complete: true });
    expect((await read()).json).toMatchObject({ content: 'Hello', seq: 2, complete: true });
    expect((await call('/v3/message/get_stream.json', { messageUID: 'nope' })).json?.code).toBe(1002);
    expect((await call('/v3/message/get_stream.json', {})).json?.code).toBe(1002);
  });

  it('publishes form-encoded text to several users and to a group', async () => {
    const form = { fromUserId: 'b1', toUserId: 'u1', objectName: 'RC:TxtMsg', content: '{"content":"hi"}' };
    const sent = await call('/message/private/publish.json', form, { form: true });
    expect(sent.json).toMatchObject({ code: 200, messageUIDs: [{ userId: 'u1' }] });
    expect(emulator.rongcloud.conversation('u1', 'b1')).toMatchObject([{ text: 'hi' }]);
  });
});

describe('RongCloud webhooks', () => {
  it('posts message:private to the bot webhook with signed query parameters', async () => {
    const seen: { url: URL; body: Record<string, unknown> }[] = [];
    const server = createServer(async (req, res) => {
      let body = '';
      for await (const chunk of req) body += chunk;
      seen.push({ url: new URL(req.url ?? '/', 'http://app'), body: JSON.parse(body) });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"code":200}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const hook = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    await call('/v3/bot/create.json', {
      ...bot('b1'),
      integrations: [{ type: 'webhook', callbackUrl: hook, events: ['message:private'] }],
    });
    const sent = await emulator.rongcloud.userSends({ from: 'alice', to: 'b1', text: 'hello' });
    expect(sent.callback).toMatchObject({ ok: true, status: 200 });
    const [delivery] = seen;
    expect(() =>
      verifyRongCloudCallback(delivery?.url.searchParams as URLSearchParams, {}, app),
    ).not.toThrow();
    expect(delivery?.body).toMatchObject({
      type: 'message:private',
      bot: { userId: 'b1' },
      data: {
        fromUserId: 'alice',
        toUserId: 'b1',
        objectName: 'RC:TxtMsg',
        content: '{"content":"hello","extra":""}',
        channelType: 'PERSON',
      },
    });
    emulator.rongcloud.createGroup({ groupId: 'g1', members: ['b1'] });
    await emulator.rongcloud.userSendsToGroup({
      from: 'alice',
      groupId: 'g1',
      text: 'ping',
      mentions: ['b1'],
    });
    expect(seen[1]?.body).toMatchObject({
      type: 'message:group',
      data: { groupId: 'g1', channelType: 'GROUP' },
    });
    server.close();
  });

  it('applies faults to RongCloud APIs by path', async () => {
    emulator.faults.failNext('/v3/bot/get.json', 1, { errorCode: 1000 });
    expect(await call('/v3/bot/get.json', { userIds: ['x'] })).toMatchObject({
      status: 500,
      json: { code: 1000 },
    });
  });
});

describe('status messages (/statusmessage/private/publish.json)', () => {
  const typing = (content: unknown, extra: Record<string, string> = {}) =>
    call(
      '/statusmessage/private/publish.json',
      {
        fromUserId: 'bot-typist',
        toUserId: 'alice',
        objectName: 'RC:TypSts',
        content: JSON.stringify(content),
        verifyBlacklist: '0',
        isIncludeSender: '0',
        ...extra,
      },
      { form: true },
    );

  it('shows RC:TypSts as typing in a one-to-one chat and stores nothing', async () => {
    const { json } = await typing({ typingContentType: 'RC:TxtMsg', data: 'search' });
    expect(json).toEqual({ code: 200 });
    expect(emulator.rongcloud.typing('alice', 'bot-typist')).toMatchObject({ statusText: 'search' });
    expect(emulator.rongcloud.conversation('alice', 'bot-typist')).toEqual([]);
  });

  it('refuses RC:TypSts without typingContentType, and a flag that is not 0 or 1 (1002)', async () => {
    expect((await typing({ data: 'x' })).json?.code).toBe(1002);
    expect((await typing({ typingContentType: 'RC:TxtMsg' }, { verifyBlacklist: '2' })).json?.code).toBe(
      1002,
    );
    expect(emulator.rongcloud.typing('alice', 'bot-typist')).toBeUndefined();
  });
});

describe('RongCloud full message routing', () => {
  /** A server that keeps every routed post: its query and its form fields. */
  async function routeSink() {
    const posts: { query: URLSearchParams; form: URLSearchParams; type: string | undefined }[] = [];
    const server = createServer((req, res) => {
      let text = '';
      req.on('data', (chunk) => {
        text += chunk;
      });
      req.on('end', () => {
        posts.push({
          query: new URL(req.url ?? '/', 'http://x').searchParams,
          form: new URLSearchParams(text),
          type: req.headers['content-type'],
        });
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/route`;
    return { posts, url, close: () => new Promise((resolve) => server.close(resolve)) };
  }

  const stream = (content: Record<string, unknown>, to: Record<string, string> = { toUserId: 'ann' }) =>
    call('/v3/message/private/publish_stream.json', {
      fromUserId: 'bot-1',
      ...to,
      objectName: 'RC:StreamMsg',
      content,
    });

  it('routes users’ messages, and a bot’s only with serverApi; a stream once, when it opens', async () => {
    const sink = await routeSink();
    try {
      await call('/v3/bot/create.json', bot('bot-1'));
      emulator.rongcloud.setMessageRouting({ url: sink.url });
      const first = await stream({ content: 'Hello', seq: 1 });
      await emulator.rongcloud.userSends({ from: 'ann', to: 'bot-1', text: 'sentinel' });
      await expect.poll(() => sink.posts.length).toBe(1);
      expect(sink.posts[0]?.form.get('fromUserId')).toBe('ann');

      emulator.rongcloud.setMessageRouting({ url: sink.url, serverApi: true });
      const uid = (await stream({ content: 'Hi', seq: 1 })).json?.messageUID as string;
      await stream({ content: ' there', seq: 2, messageUID: uid, complete: true });
      await emulator.rongcloud.userSends({ from: 'ann', to: 'bot-1', text: 'sentinel' });
      await expect.poll(() => sink.posts.length).toBe(3);
      const route = sink.posts[1] as (typeof sink.posts)[number];
      expect(route.type).toBe('application/x-www-form-urlencoded');
      expect(Object.fromEntries(route.form)).toMatchObject({
        fromUserId: 'bot-1',
        toUserId: 'ann',
        objectName: 'RC:StreamMsg',
        channelType: 'PERSON',
        msgUID: uid,
        source: 'Server',
      });
      expect(JSON.parse(route.form.get('content') as string)).toMatchObject({ content: 'Hi', seq: 1 });
      expect(Number(route.form.get('msgTimestamp'))).toBeGreaterThan(0);
      // Signed as RongCloud signs callbacks: the App Secret, a nonce and signTimestamp.
      expect(() =>
        verifyRongCloudCallback(route.query, {}, { appKey: app.appKey, appSecret: app.appSecret }),
      ).not.toThrow();
      expect(first.json?.messageUID).not.toBe(uid);
    } finally {
      await sink.close();
    }
  });

  it('routes a group stream with the group’s id and GROUP; off with undefined', async () => {
    const sink = await routeSink();
    try {
      emulator.rongcloud.setMessageRouting({ url: sink.url, serverApi: true });
      await call('/v3/message/group/publish_stream.json', {
        fromUserId: 'bot-1',
        toGroupId: 'crew',
        objectName: 'RC:StreamMsg',
        content: { content: 'Hello', seq: 1 },
      });
      await expect.poll(() => sink.posts.length).toBe(1);
      expect(Object.fromEntries(sink.posts[0]?.form ?? [])).toMatchObject({
        toUserId: 'crew',
        channelType: 'GROUP',
      });
      emulator.rongcloud.setMessageRouting(undefined);
      await stream({ content: 'unrouted', seq: 1 });
      emulator.rongcloud.setMessageRouting({ url: sink.url });
      await emulator.rongcloud.userSends({ from: 'ann', to: 'bot-1', text: 'sentinel' });
      await expect.poll(() => sink.posts.length).toBe(2);
      expect(sink.posts[1]?.form.get('fromUserId')).toBe('ann');
    } finally {
      await sink.close();
    }
  });
});
