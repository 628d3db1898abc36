import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { genUserSig } from '@imbot/core';
import { tencentCallbackSign } from '@imbot/core/tencent';
import { Client } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CallRecord, Emulator } from '../src/index.js';
import { ADMIN, adminSig, emulatorForTests, rawCall, SDK_APP_ID, SECRET_KEY } from './rest.js';

let emulator: Emulator;

beforeEach(async () => {
  emulator = await emulatorForTests();
});
afterEach(async () => {
  await emulator.close();
});

const code = async (promise: ReturnType<typeof rawCall>) => (await promise).json?.ErrorCode;

describe('request checks', () => {
  it('answers a valid call with the documented envelope', async () => {
    const { status, json } = await rawCall(emulator, 'openim_robot_http_svc/get_all_robots');
    expect(status).toBe(200);
    expect(json).toMatchObject({ ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '', Robot_Account: [] });
    expect(json?.RequestId).toMatch(/^Id-/);
  });

  const forged = () =>
    genUserSig({ sdkAppId: SDK_APP_ID, secretKey: 'not-the-key', userId: ADMIN, expireSeconds: 3600 });
  const expired = () =>
    genUserSig({
      sdkAppId: SDK_APP_ID,
      secretKey: SECRET_KEY,
      userId: ADMIN,
      expireSeconds: 60,
      now: Date.now() - 120_000,
    });
  const otherUser = () =>
    genUserSig({ sdkAppId: SDK_APP_ID, secretKey: SECRET_KEY, userId: 'someone', expireSeconds: 60 });
  const otherApp = () =>
    genUserSig({ sdkAppId: 1400000001, secretKey: SECRET_KEY, userId: ADMIN, expireSeconds: 60 });

  it.each([
    ['a missing sdkappid', { sdkappid: undefined }, 60012],
    ['another sdkappid', { sdkappid: '1400000001' }, 60006],
    ['a missing identifier', { identifier: undefined }, 60002],
    ['a random that is not a uint32', { random: '4294967296' }, 60002],
    ['a negative random', { random: '-1' }, 60002],
    ['contenttype other than json', { contenttype: 'xml' }, 60002],
    ['a truncated UserSig', { usersig: 'eJyrVgrxCdYrSy1SslI' }, 70003],
    ['a forged UserSig', { usersig: forged() }, 70009],
    ['an expired UserSig', { usersig: expired() }, 70001],
    ['a UserSig of another app', { usersig: otherApp() }, 70014],
    ['an identifier the UserSig was not made for', { identifier: 'someone-else' }, 70013],
  ])('refuses %s', async (_, query, expected) => {
    expect(await code(rawCall(emulator, 'openim_robot_http_svc/get_all_robots', {}, { query }))).toBe(
      expected,
    );
  });

  it('refuses a valid UserSig of a user who is not the App admin (60010)', async () => {
    const call = rawCall(
      emulator,
      'openim_robot_http_svc/get_all_robots',
      {},
      { query: { identifier: 'someone', usersig: otherUser() } },
    );
    expect(await code(call)).toBe(60010);
  });

  it('refuses an empty body and a body that is not a JSON object (60003)', async () => {
    expect(await code(rawCall(emulator, 'openim_robot_http_svc/get_all_robots', {}, { body: '' }))).toBe(
      60003,
    );
    expect(await code(rawCall(emulator, 'openim_robot_http_svc/get_all_robots', {}, { body: '{"a":' }))).toBe(
      60003,
    );
    expect(await code(rawCall(emulator, 'openim_robot_http_svc/get_all_robots', {}, { body: '[1]' }))).toBe(
      60003,
    );
  });

  it('refuses a body over 1 MB with HTTP 413', async () => {
    const { status } = await rawCall(emulator, 'openim/sendmsg', {}, { body: 'x'.repeat(1024 * 1024 + 1) });
    expect(status).toBe(413);
  });

  it('after refusing a 2 MB chunked body, answers the next call on the same connection', async () => {
    const client = new Client(emulator.url, { pipelining: 1 });
    let connections = 0;
    client.on('connect', () => connections++);
    const path = (api: string) =>
      `/v4/${api}?${new URLSearchParams({ sdkappid: String(SDK_APP_ID), identifier: ADMIN, usersig: adminSig(), random: '1', contenttype: 'json' })}`;
    try {
      const big = Buffer.alloc(2 * 1024 * 1024, 'x');
      async function* chunks() {
        for (let i = 0; i < big.length; i += 65536) yield big.subarray(i, i + 65536);
      }
      const refused = await client.request({
        method: 'POST',
        path: path('openim/sendmsg'),
        body: Readable.from(chunks()),
      });
      await refused.body.text();
      expect(refused.statusCode).toBe(413);
      const next = await client.request({
        method: 'POST',
        path: path('openim_robot_http_svc/get_all_robots'),
        body: '{}',
      });
      expect(await next.body.json()).toMatchObject({ ErrorCode: 0 });
      expect(connections).toBe(1);
    } finally {
      await client.close();
    }
  });

  it('answers an API it does not know with 60002, naming it', async () => {
    const { json } = await rawCall(emulator, 'openim/no_such_api');
    expect(json).toMatchObject({
      ErrorCode: 60002,
      ErrorInfo: 'the emulator does not implement openim/no_such_api',
    });
  });
});

describe('robot APIs', () => {
  const create = (body: Record<string, unknown>) =>
    rawCall(emulator, 'openim_robot_http_svc/create_robot', body);

  it('creates robots idempotently and lists them', async () => {
    expect(await code(create({ UserID: '@RBT#001', Nick: 'Jarvis' }))).toBe(0);
    expect(await code(create({ UserID: '@RBT#001', Nick: 'Jarvis' }))).toBe(0);
    expect(await code(create({ UserID: '@RBT#002' }))).toBe(0);
    const { json } = await rawCall(emulator, 'openim_robot_http_svc/get_all_robots');
    expect(json?.Robot_Account).toEqual(['@RBT#001', '@RBT#002']);
    expect(emulator.tencent.robots()[0]?.profile).toEqual({ nick: 'Jarvis' });
  });

  it('enforces the prefix, 32 bytes, and 500-byte profile fields (40601)', async () => {
    expect(await code(create({ UserID: 'RBT#001' }))).toBe(10004);
    expect(await code(create({ UserID: `@RBT#${'é'.repeat(14)}` }))).toBe(10004);
    expect(await code(create({ UserID: `@RBT#${'x'.repeat(27)}` }))).toBe(0);
    expect(await code(create({ UserID: '@RBT#003', SelfSignature: '字'.repeat(167) }))).toBe(40601);
    expect(await code(create({ UserID: '@RBT#003', SelfSignature: '字'.repeat(166) }))).toBe(0);
  });

  it('allows 20 robots and refuses the 21st (10008)', async () => {
    for (let i = 0; i < 20; i++) expect(await code(create({ UserID: `@RBT#${i}` }))).toBe(0);
    expect(await code(create({ UserID: '@RBT#20' }))).toBe(10008);
    expect(await code(create({ UserID: '@RBT#0' }))).toBe(0);
  });

  it('delete marks a robot invalid: gone from the list, still known', async () => {
    await create({ UserID: '@RBT#001' });
    expect(
      await code(rawCall(emulator, 'openim_robot_http_svc/delete_robot', { Robot_Account: '@RBT#001' })),
    ).toBe(0);
    const { json } = await rawCall(emulator, 'openim_robot_http_svc/get_all_robots');
    expect(json?.Robot_Account).toEqual([]);
    expect(emulator.tencent.robots()).toMatchObject([{ userId: '@RBT#001', valid: false }]);
    expect(
      await code(rawCall(emulator, 'openim_robot_http_svc/delete_robot', { Robot_Account: '@RBT#nope' })),
    ).toBe(10004);
  });

  it('starts with the robots it was given, as in the documented sample', async () => {
    await emulator.close();
    emulator = await emulatorForTests({ tencent: { robots: ['@RBT#001', '@RBT#002', '@RBT#003'] } as never });
    const { json } = await rawCall(emulator, 'openim_robot_http_svc/get_all_robots');
    expect(json).toMatchObject({
      ActionStatus: 'OK',
      ErrorInfo: '',
      ErrorCode: 0,
      Robot_Account: ['@RBT#001', '@RBT#002', '@RBT#003'],
    });
  });
});

describe('send_stream_msg', () => {
  const stream = (body: Record<string, unknown>) =>
    rawCall(emulator, 'openim_robot_http_svc/send_stream_msg', body);

  beforeEach(async () => {
    await rawCall(emulator, 'openim_robot_http_svc/create_robot', { UserID: '@RBT#my_bot' });
  });

  it('assembles chunks in order into one message, finished by Finish: 1', async () => {
    const first = await stream({ From_Account: '@RBT#my_bot', To_Account: 'user01', Chunk: 'hello, ' });
    const msgKey = first.json?.MsgKey as string;
    expect(msgKey).toMatch(/^\d+_\d+_\d+$/);
    expect(emulator.tencent.conversation('user01', '@RBT#my_bot')).toMatchObject([
      { text: 'hello, ', state: 'streaming' },
    ]);
    const last = await stream({
      From_Account: '@RBT#my_bot',
      To_Account: 'user01',
      Chunk: 'world',
      MsgKey: msgKey,
      Finish: 1,
    });
    expect(last.json).toMatchObject({ ErrorCode: 0, MsgKey: msgKey });
    expect(emulator.tencent.conversation('user01', '@RBT#my_bot')).toMatchObject([
      {
        from: '@RBT#my_bot',
        to: 'user01',
        kind: 'stream',
        text: 'hello, world',
        state: 'finished',
        calls: 2,
      },
    ]);
  });

  it('rejects a call on a finished or unknown key, a non-robot sender and an empty chunk', async () => {
    const first = await stream({ From_Account: '@RBT#my_bot', To_Account: 'u', Chunk: 'a', Finish: 1 });
    const msgKey = first.json?.MsgKey;
    expect(
      await code(stream({ From_Account: '@RBT#my_bot', To_Account: 'u', Chunk: 'b', MsgKey: msgKey })),
    ).toBe(10004);
    expect(
      await code(stream({ From_Account: '@RBT#my_bot', To_Account: 'u', Chunk: 'b', MsgKey: '1_2_3' })),
    ).toBe(10004);
    expect(await code(stream({ From_Account: 'u2', To_Account: 'u', Chunk: 'b' }))).toBe(10004);
    expect(await code(stream({ From_Account: '@RBT#my_bot', To_Account: 'u', Chunk: '' }))).toBe(10004);
    expect(emulator.tencent.conversation('u', '@RBT#my_bot').map((m) => m.text)).toEqual(['a']);
  });

  it('refuses a chunk that would take the message past 12 KB, keeping what it had', async () => {
    const first = await stream({
      From_Account: '@RBT#my_bot',
      To_Account: 'u',
      Chunk: 'x'.repeat(12 * 1024 - 1),
    });
    const msgKey = first.json?.MsgKey;
    expect(
      await code(stream({ From_Account: '@RBT#my_bot', To_Account: 'u', Chunk: 'é', MsgKey: msgKey })),
    ).toBe(93000);
    expect(
      await code(
        stream({ From_Account: '@RBT#my_bot', To_Account: 'u', Chunk: 'y', MsgKey: msgKey, Finish: 1 }),
      ),
    ).toBe(0);
    expect(emulator.tencent.conversation('u', '@RBT#my_bot')[0]?.text).toHaveLength(12 * 1024);
  });

  it('abandons a stream left idle, and then refuses it', async () => {
    await emulator.close();
    let time = Date.now();
    emulator = await emulatorForTests({ now: () => time, tencent: { streamIdleMs: 50 } as never });
    await rawCall(emulator, 'openim_robot_http_svc/create_robot', { UserID: '@RBT#my_bot' });
    const first = await stream({ From_Account: '@RBT#my_bot', To_Account: 'u', Chunk: 'a' });
    time += 49;
    expect(emulator.tencent.conversation('u', '@RBT#my_bot')[0]?.state).toBe('streaming');
    time += 1;
    expect(emulator.tencent.conversation('u', '@RBT#my_bot')[0]?.state).toBe('abandoned');
    const late = stream({
      From_Account: '@RBT#my_bot',
      To_Account: 'u',
      Chunk: 'b',
      MsgKey: first.json?.MsgKey,
    });
    expect(await code(late)).toBe(10004);
  });
});

describe('sendmsg and profiles', () => {
  const text = (Text: string) => [{ MsgType: 'TIMTextElem', MsgContent: { Text } }];

  it('delivers a message and de-duplicates an identical resend within 120 s', async () => {
    const body = { From_Account: 'alice', To_Account: 'bob', MsgSeq: 7, MsgRandom: 42, MsgBody: text('hi') };
    const first = await rawCall(emulator, 'openim/sendmsg', body);
    const again = await rawCall(emulator, 'openim/sendmsg', body);
    expect(again.json?.MsgKey).toBe(first.json?.MsgKey);
    await rawCall(emulator, 'openim/sendmsg', { ...body, MsgRandom: 43 });
    expect(emulator.tencent.conversation('alice', 'bob').map((m) => m.text)).toEqual(['hi', 'hi']);
  });

  it('takes 12 KB of text and refuses one byte more (93000)', async () => {
    const send = (t: string) =>
      rawCall(emulator, 'openim/sendmsg', { To_Account: 'bob', MsgRandom: 1, MsgBody: text(t) });
    expect(await code(send('x'.repeat(12 * 1024)))).toBe(0);
    expect(await code(send('x'.repeat(12 * 1024 + 1)))).toBe(93000);
  });

  it('requires MsgRandom and a MsgBody (10004)', async () => {
    expect(await code(rawCall(emulator, 'openim/sendmsg', { To_Account: 'bob', MsgBody: text('x') }))).toBe(
      10004,
    );
    expect(
      await code(rawCall(emulator, 'openim/sendmsg', { To_Account: 'bob', MsgRandom: 1, MsgBody: [] })),
    ).toBe(10004);
  });

  it('sets and reads profiles, refusing 501 bytes (40601)', async () => {
    const set = (Value: string) =>
      rawCall(emulator, 'profile/portrait_set', {
        From_Account: 'bob',
        ProfileItem: [{ Tag: 'Tag_Profile_IM_Nick', Value }],
      });
    expect(await code(set('Bob'))).toBe(0);
    expect(await code(set('x'.repeat(501)))).toBe(40601);
    const { json } = await rawCall(emulator, 'profile/portrait_get', {
      To_Account: ['bob'],
      TagList: ['Tag_Profile_IM_Nick', 'Tag_Profile_IM_Image'],
    });
    expect(json?.UserProfileItem).toEqual([
      {
        To_Account: 'bob',
        ProfileItem: [
          { Tag: 'Tag_Profile_IM_Nick', Value: 'Bob' },
          { Tag: 'Tag_Profile_IM_Image', Value: '' },
        ],
        ResultCode: 0,
        ResultInfo: '',
      },
    ]);
  });
});

describe('stream_msg', () => {
  const element = (chunks: object[], streamMsgId?: string) => [
    {
      MsgType: 'TIMStreamElem',
      MsgContent: { ...(streamMsgId ? { StreamMsgID: streamMsgId } : {}), Chunks: chunks },
    },
  ];
  const chunk = (Index: number, Markdown: string, IsLast = false) => ({
    EventType: 'data',
    Index,
    Markdown,
    IsLast,
  });

  it('assembles a C2C stream by Index until IsLast', async () => {
    const send = (chunks: object[], id?: string) =>
      rawCall(emulator, 'stream_msg/send_c2c_stream_msg', {
        From_Account: 'bot',
        To_Account: 'u',
        MsgRandom: 1,
        MsgBody: element(chunks, id),
      });
    const first = await send([chunk(1, 'Hel')]);
    const id = first.json?.StreamMsgID as string;
    expect(id).toBeTruthy();
    expect(await code(send([chunk(3, 'x')], id))).toBe(10004); // out of order
    expect(await code(send([chunk(2, 'lo'), chunk(3, '!', true)], id))).toBe(0);
    expect(await code(send([chunk(4, 'late')], id))).toBe(10004); // ended
    expect(emulator.tencent.conversation('u', 'bot')).toMatchObject([{ text: 'Hello!', state: 'finished' }]);
  });

  it('allows 5 calls per second on one stream', async () => {
    const send = (i: number, id?: string) =>
      rawCall(emulator, 'stream_msg/send_c2c_stream_msg', {
        To_Account: 'u',
        MsgRandom: 1,
        MsgBody: element([chunk(i, `${i}`)], id),
      });
    const id = (await send(1)).json?.StreamMsgID as string;
    const codes: unknown[] = [];
    for (let i = 2; i <= 6; i++) codes.push(await code(send(codes.filter((c) => c === 0).length + 2, id)));
    expect(codes).toEqual([0, 0, 0, 0, 60007]);
  });

  it('takes Random as well as MsgRandom in a group stream', async () => {
    emulator.tencent.createGroup({ groupId: 'g1' });
    const { json } = await rawCall(emulator, 'stream_msg/send_group_stream_msg', {
      GroupId: 'g1',
      Random: 9,
      MsgBody: element([chunk(1, 'hi all', true)]),
    });
    expect(json?.ErrorCode).toBe(0);
    expect(emulator.tencent.groupConversation('g1')).toMatchObject([
      { kind: 'stream', text: 'hi all', state: 'finished' },
    ]);
  });

  it('keeps a stream under 128 KB', async () => {
    const { json } = await rawCall(emulator, 'stream_msg/send_c2c_stream_msg', {
      To_Account: 'u',
      MsgRandom: 1,
      MsgBody: element([chunk(1, 'x'.repeat(128 * 1024))]),
    });
    expect(json?.ErrorCode).toBe(93000);
  });
});

describe('frequency limit', () => {
  let time: number;
  beforeEach(async () => {
    await emulator.close();
    time = Date.now();
    emulator = await emulatorForTests({ now: () => time });
  });
  const robots = () => code(rawCall(emulator, 'openim_robot_http_svc/get_all_robots'));

  it('a burst of 300 raw calls within one second gets exactly 100 rejected, and the next second is free', async () => {
    const answers = await Promise.all(Array.from({ length: 300 }, robots));
    expect(answers.filter((c) => c === 0)).toHaveLength(200);
    expect(answers.filter((c) => c === 60007)).toHaveLength(100);
    expect(emulator.tencent.rate()['openim_robot_http_svc/get_all_robots']).toMatchObject({
      accepted: 200,
      rejected: 100,
      busiestWindow: 200,
    });
    time += 999;
    expect(await robots()).toBe(60007);
    time += 1;
    expect(await robots()).toBe(0);
  });

  it('counts each API separately', async () => {
    await Promise.all(Array.from({ length: 200 }, robots));
    // This API's budget is spent: the next call of it is refused, another API's is not.
    expect(await robots()).toBe(60007);
    expect(
      await code(
        rawCall(emulator, 'profile/portrait_get', { To_Account: ['a'], TagList: ['Tag_Profile_IM_Nick'] }),
      ),
    ).toBe(0);
  });
});

describe('faults', () => {
  const list = () => rawCall(emulator, 'openim_robot_http_svc/get_all_robots');
  const create = (id: string) => rawCall(emulator, 'openim_robot_http_svc/create_robot', { UserID: id });

  it('fails the next N calls of one API with a chosen code, then recovers', async () => {
    emulator.faults.failNext('openim_robot_http_svc/get_all_robots', 2, { errorCode: 10002 });
    expect([await code(list()), await code(list()), await code(list())]).toEqual([10002, 10002, 0]);
    expect(emulator.tencent.calls().map((c) => c.fault)).toEqual(['error 10002', 'error 10002', undefined]);
  });

  it('answers HTTP 502 without applying the call', async () => {
    emulator.faults.failNext('openim_robot_http_svc/create_robot', 1, 'http-502');
    expect((await create('@RBT#1')).status).toBe(502);
    expect(emulator.tencent.robots()).toEqual([]);
  });

  it('drops the connection before applying the call', async () => {
    emulator.faults.failNext('openim_robot_http_svc/create_robot', 1, 'reset-before');
    await expect(create('@RBT#1')).rejects.toThrow();
    expect(emulator.tencent.robots()).toEqual([]);
  });

  it('drops the connection after applying the call: the ambiguous case', async () => {
    emulator.faults.failNext('openim_robot_http_svc/create_robot', 1, 'reset-after');
    await expect(create('@RBT#1')).rejects.toThrow();
    expect(emulator.tencent.robots().map((r) => r.userId)).toEqual(['@RBT#1']);
  });

  it('answers a body that is not JSON', async () => {
    emulator.faults.failNext('openim_robot_http_svc/get_all_robots', 1, 'malformed');
    const { status, json } = await list();
    expect(status).toBe(200);
    expect(json).toBeUndefined();
  });

  it('adds latency with jitter, and every call waits out its own draw', async () => {
    emulator.faults.configure({ latencyMs: 20, jitterMs: 40, seed: 1 });
    for (let i = 0; i < 6; i++) await list();
    const calls = emulator.tencent.calls();
    const drawn = calls.map((c) => c.latencyMs as number);
    expect(drawn.every((ms) => ms >= 20 && ms < 60)).toBe(true);
    // The jitter shows: six draws from a 40 ms spread are not all within 5 ms of each other.
    expect(Math.max(...drawn) - Math.min(...drawn)).toBeGreaterThan(5);
    // Timers count whole milliseconds: a call may answer up to 1 ms before its fractional draw.
    for (const call of calls) expect(call.durationMs).toBeGreaterThanOrEqual((call.latencyMs as number) - 1);
  });

  it.each([
    ['before', 100, 0],
    ['after', 0, 100],
    ['split', 50, 50],
  ] as const)(
    'spends the latency %s the call is applied, and counts it when applied',
    async (latencySplit, before, after) => {
      emulator.faults.configure({ latencyMs: 100, latencySplit });
      const { json } = await rawCall(emulator, 'openim/sendmsg', {
        To_Account: 'bob',
        MsgRandom: 1,
        MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: `spent ${latencySplit}` } }],
      });
      expect(json?.ErrorCode).toBe(0);
      // The emulator's own record: when the call arrived, when the message was applied, and how long
      // the call took until answered.
      const call = emulator.tencent.calls().at(-1) as CallRecord;
      const applied = emulator.tencent.conversation(ADMIN, 'bob').at(-1)?.time as number;
      const answered = call.time + call.durationMs;
      // Timers never fire early: each leg takes at least its share (less 1 ms of timer rounding and
      // 1 ms of the millisecond stamps).
      expect(applied - call.time).toBeGreaterThanOrEqual(before - 2);
      expect(answered - applied).toBeGreaterThanOrEqual(after - 2);
      expect(emulator.tencent.rate()['openim/sendmsg']?.accepted).toBe(1);
    },
  );

  it('draws random faults from a seed, the same sequence every run', async () => {
    const run = async () => {
      emulator.reset();
      emulator.faults.configure({ seed: 42, errorRate: 0.3, http502Rate: 0.2 });
      const outcomes: unknown[] = [];
      for (let i = 0; i < 30; i++) {
        const answer = await list();
        outcomes.push(answer.status === 502 ? 'http-502' : answer.json?.ErrorCode);
      }
      return outcomes;
    };
    const first = await run();
    expect(new Set(first)).toEqual(new Set([0, 10002, 'http-502']));
    expect(await run()).toEqual(first);
  });
});

describe('callbacks', () => {
  async function appServer(answer: (req: IncomingMessage, body: string) => Promise<void> | void) {
    const seen: { url: URL; body: Record<string, unknown> }[] = [];
    const server = createServer(async (req, res) => {
      let body = '';
      for await (const chunk of req) body += chunk;
      seen.push({ url: new URL(req.url ?? '/', 'http://app'), body: JSON.parse(body) });
      await answer(req, body);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/im`;
    return { url, seen, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  }

  it('posts Bot.OnC2CMessage with the real query parameters and a valid Sign', async () => {
    // The emulator's clock held still, a minute ahead of the wall's: RequestTime must be its time.
    await emulator.close();
    const time = Date.now() + 60_000;
    emulator = await emulatorForTests({ now: () => time });
    const app = await appServer(() => {});
    emulator.tencent.setCallback(app.url, 'xxxxyyyy');
    await rawCall(emulator, 'openim_robot_http_svc/create_robot', { UserID: '@RBT#1' });
    const result = await emulator.tencent.userSends({ from: 'alice', to: '@RBT#1', text: 'hello' });
    expect(result.callback?.ok).toBe(true);
    const [call] = app.seen;
    const q = call?.url.searchParams;
    expect(q?.get('SdkAppid')).toBe(String(SDK_APP_ID));
    expect(q?.get('CallbackCommand')).toBe('Bot.OnC2CMessage');
    expect(q?.get('contenttype')).toBe('json');
    expect(q?.get('OptPlatform')).toBe('Web');
    expect(q?.get('Sign')).toBe(tencentCallbackSign('xxxxyyyy', q?.get('RequestTime') as string));
    expect(q?.get('RequestTime')).toBe(String(Math.floor(time / 1000)));
    expect(call?.body).toMatchObject({
      CallbackCommand: 'Bot.OnC2CMessage',
      From_Account: 'alice',
      To_Account: '@RBT#1',
      MsgKey: result.message.msgKey,
      MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'hello' } }],
    });
    await app.close();
  });

  it('posts Bot.OnGroupMessage naming the @-mentioned robots', async () => {
    const app = await appServer(() => {});
    emulator.tencent.setCallback(app.url);
    await rawCall(emulator, 'openim_robot_http_svc/create_robot', { UserID: '@RBT#1' });
    emulator.tencent.createGroup({ groupId: 'g1', members: ['@RBT#1'] });
    await emulator.tencent.userSendsToGroup({
      from: 'alice',
      groupId: 'g1',
      text: 'hi',
      mentions: ['@RBT#1'],
    });
    expect(app.seen[0]?.body).toMatchObject({
      CallbackCommand: 'Bot.OnGroupMessage',
      GroupId: 'g1',
      AtRobots_Account: ['@RBT#1'],
      MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: '@RBT#1 hi' } }],
    });
    expect(app.seen[0]?.url.searchParams.has('Sign')).toBe(false);
    await app.close();
  });

  it('waits at most 2 s for the app, and records that it did not answer', async () => {
    // The app answers only when the test lets it, after the emulator has given up: no race with a timer.
    let answer!: () => void;
    const held = new Promise<void>((resolve) => {
      answer = resolve;
    });
    const app = await appServer(() => held);
    emulator.tencent.setCallback(app.url);
    await rawCall(emulator, 'openim_robot_http_svc/create_robot', { UserID: '@RBT#1' });
    const result = await emulator.tencent.userSends({ from: 'alice', to: '@RBT#1', text: 'slow?' });
    expect(app.seen).toHaveLength(1);
    expect(result.callback).toMatchObject({ ok: false, error: 'no answer within 2000 ms' });
    // As the emulator timed it: it waited the 2 s, and not much longer.
    expect(result.callback?.durationMs).toBeGreaterThanOrEqual(1999);
    expect(result.callback?.durationMs).toBeLessThan(2400);
    answer();
    await app.close();
  });

  it('fires the robot callback for an admin sendmsg to a robot', async () => {
    const app = await appServer(() => {});
    emulator.tencent.setCallback(app.url);
    await rawCall(emulator, 'openim_robot_http_svc/create_robot', { UserID: '@RBT#1' });
    await rawCall(emulator, 'openim/sendmsg', {
      To_Account: '@RBT#1',
      MsgRandom: 5,
      MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'from admin' } }],
    });
    await expect.poll(() => app.seen.length).toBe(1);
    expect(app.seen[0]?.url.searchParams.get('OptPlatform')).toBe('RESTAPI');
    expect(app.seen[0]?.body.From_Account).toBe(ADMIN);
    await app.close();
  });
});

describe('control API', () => {
  const control = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${emulator.url}/_emulator/${path}`, {
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as unknown };
  };

  it('lists robots and conversations, sends as a user, sets faults and resets', async () => {
    await rawCall(emulator, 'openim_robot_http_svc/create_robot', { UserID: '@RBT#1', Nick: 'One' });
    expect((await control('GET', 'tencent/robots')).json).toMatchObject([
      { userId: '@RBT#1', profile: { nick: 'One' } },
    ]);
    expect(
      (await control('POST', 'tencent/messages', { from: 'alice', to: '@RBT#1', text: 'hi' })).status,
    ).toBe(200);
    expect((await control('GET', 'tencent/conversations')).json).toEqual([
      { participants: ['@RBT#1', 'alice'], messages: 1, last: 'hi' },
    ]);
    const conversation = await control(
      'GET',
      `tencent/conversation?user=alice&with=${encodeURIComponent('@RBT#1')}`,
    );
    expect(conversation.json).toMatchObject([{ from: 'alice', to: '@RBT#1', text: 'hi', state: 'finished' }]);
    expect((await control('PUT', 'faults', { errorRate: 1, seed: 3 })).json).toEqual({
      errorRate: 1,
      seed: 3,
    });
    expect(await code(rawCall(emulator, 'openim_robot_http_svc/get_all_robots'))).toBe(10002);
    await control('PUT', 'faults', {});
    await control('POST', 'faults/next', { api: 'openim_robot_http_svc/get_all_robots', fault: 'http-502' });
    expect((await rawCall(emulator, 'openim_robot_http_svc/get_all_robots')).status).toBe(502);
    expect(((await control('GET', 'tencent/calls')).json as unknown[]).length).toBe(3);
    await control('POST', 'reset');
    expect((await control('GET', 'tencent/robots')).json).toEqual([]);
  });

  it('answers bad input with 400 and the reason', async () => {
    expect(await control('PUT', 'faults', { errorRate: 2 })).toMatchObject({ status: 400 });
    expect(await control('GET', 'tencent/conversation')).toMatchObject({
      status: 400,
      json: { error: expect.stringContaining('user') },
    });
    expect(await control('GET', 'nope')).toMatchObject({ status: 404 });
    // A misspelt field is refused, not silently replaced by the default fault.
    expect(await control('POST', 'faults/next', { api: 'openim/sendmsg', kind: 'http-502' })).toMatchObject({
      status: 400,
      json: { error: expect.stringContaining('kind') },
    });
    expect(await control('PUT', 'faults', { errorrate: 0.5 })).toMatchObject({ status: 400 });
    // So is one in the user's side of the control API, and nothing is sent.
    for (const [path, body, field] of [
      ['tencent/messages', { from: 'alice', to: '@RBT#1', txt: 'hi' }, 'txt'],
      ['tencent/group-messages', { from: 'alice', groupId: 'g', text: 'hi', mention: ['@RBT#1'] }, 'mention'],
      ['tencent/groups', { groupId: 'g', member: ['alice'] }, 'member'],
      ['tencent/presses', { from: 'alice', msgKey: 'k', value: 'v', button: 1 }, 'button'],
    ] as const) {
      expect(await control('POST', path, body)).toMatchObject({
        status: 400,
        json: { error: expect.stringContaining(field) },
      });
    }
    expect(emulator.tencent.state.conversations()).toEqual([]);
    expect((await control('GET', 'tencent/groups')).json).toEqual([]);
  });

  it('refuses a message to a robot the app does not have, with 400 over the control API', async () => {
    await expect(emulator.tencent.userSends({ from: 'alice', to: '@RBT#ghost', text: 'hi' })).rejects.toThrow(
      /@RBT#ghost is not a robot of this app/,
    );
    expect(
      await control('POST', 'tencent/messages', { from: 'alice', to: '@RBT#ghost', text: 'hi' }),
    ).toMatchObject({
      status: 400,
      json: { error: expect.stringContaining('@RBT#ghost') },
    });
    // Nothing was recorded; a message between two users still is.
    expect(emulator.tencent.state.conversations()).toEqual([]);
    expect(
      (await emulator.tencent.userSends({ from: 'alice', to: 'bob', text: 'hi' })).callback,
    ).toBeUndefined();
  });

  it('keeps a large refused body in the call log as its size and a preview, not whole', async () => {
    const big = JSON.stringify({ junk: 'x'.repeat(900_000) });
    const { json } = await rawCall(emulator, 'openim_robot_http_svc/get_all_robots', undefined, {
      query: { usersig: 'forged-forged-forged' },
      body: big,
    });
    expect(json?.ErrorCode).not.toBe(0);
    const [record] = emulator.tencent.calls().slice(-1);
    expect(record?.body).toEqual({ omitted: `${big.length} characters`, preview: big.slice(0, 256) });
  });

  it('answers the call log after a deeply nested body (no stack overflow writing it out)', async () => {
    const deep = `{"x":${'['.repeat(150_000)}${']'.repeat(150_000)}}`;
    const { json } = await rawCall(emulator, 'openim_robot_http_svc/get_all_robots', undefined, {
      query: { usersig: adminSig() },
      body: deep,
    });
    expect(json?.ActionStatus).toBe('OK');
    const response = await fetch(`${emulator.url}/_emulator/tencent/calls`);
    expect(response.status).toBe(200);
    expect((await response.json()).at(-1).body).toEqual({
      omitted: `${deep.length} characters`,
      preview: deep.slice(0, 256),
    });
  });

  it('shortens a UserSig the cloud quotes back in an answer, as in the logged query', async () => {
    emulator.faults.failNext('openim_robot_http_svc/get_all_robots', 1, {
      errorCode: 60002,
      errorInfo: 'bad {query}',
    });
    const usersig = adminSig();
    const { json } = await rawCall(
      emulator,
      'openim_robot_http_svc/get_all_robots',
      {},
      { query: { usersig } },
    );
    // The answer itself quotes the request, as a real cloud may; the log does not keep the UserSig.
    expect(String(json?.ErrorInfo)).toContain(usersig);
    const logged = JSON.stringify(emulator.tencent.calls().at(-1));
    expect(logged).not.toContain(usersig);
    expect(logged).toContain(`${usersig.slice(0, 12)}…`);
  });

  it('takes a request target of // as a path (404), not as a URL to another host (500)', async () => {
    const { Client } = await import('undici');
    const client = new Client(emulator.url);
    try {
      for (const path of ['//', '//example.com/x']) {
        const answer = await client.request({ path, method: 'GET' });
        await answer.body.dump();
        expect(answer.statusCode).toBe(404);
      }
    } finally {
      await client.close();
    }
  });
});

describe('modify_c2c_msg and admin_msgwithdraw', () => {
  const send = async () =>
    (
      await rawCall(emulator, 'openim/sendmsg', {
        From_Account: '@RBT#1',
        To_Account: 'u',
        MsgRandom: 1,
        MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'first draft' } }],
      })
    ).json?.MsgKey as string;

  it('rewrites a message the sender sent, and recalls it', async () => {
    const key = await send();
    const edit = await rawCall(emulator, 'openim/modify_c2c_msg', {
      From_Account: '@RBT#1',
      To_Account: 'u',
      MsgKey: key,
      MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'final text' } }],
    });
    expect(edit.json?.ErrorCode).toBe(0);
    expect(emulator.tencent.conversation('u', '@RBT#1')).toMatchObject([
      { text: 'final text', state: 'finished' },
    ]);
    const recall = await rawCall(emulator, 'openim/admin_msgwithdraw', {
      From_Account: '@RBT#1',
      To_Account: 'u',
      MsgKey: key,
    });
    expect(recall.json?.ErrorCode).toBe(0);
    expect(emulator.tencent.conversation('u', '@RBT#1')[0]?.state).toBe('recalled');
  });

  it('refuses an unknown key or another sender (20004)', async () => {
    const key = await send();
    const other = rawCall(emulator, 'openim/admin_msgwithdraw', {
      From_Account: 'mallory',
      To_Account: 'u',
      MsgKey: key,
    });
    expect(await code(other)).toBe(20004);
    const unknown = rawCall(emulator, 'openim/admin_msgwithdraw', {
      From_Account: '@RBT#1',
      To_Account: 'u',
      MsgKey: '9_9_9',
    });
    expect(await code(unknown)).toBe(20004);
  });
});

describe('online-only messages and the typing signal (sendmsg with MsgLifeTime 0)', () => {
  const typingBody = (data: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    From_Account: '@RBT#typist',
    To_Account: 'alice',
    MsgRandom: 7,
    MsgLifeTime: 0,
    SendMsgControl: ['NoUnread', 'NoLastMsg'],
    MsgBody: [{ MsgType: 'TIMCustomElem', MsgContent: { Data: JSON.stringify(data), Desc: '' } }],
    ...extra,
  });
  const typing = {
    businessID: 'user_typing_status',
    typingStatus: 1,
    version: 1,
    userAction: 14,
    actionParam: 'EIMAMSG_InputStatus_Ing',
  };

  it('shows TUIKit’s typing element for 5 s, stores nothing, and ends it when the message arrives', async () => {
    const { json } = await rawCall(
      emulator,
      'openim/sendmsg',
      typingBody({ ...typing, statusText: 'search' }),
    );
    expect(json).toMatchObject({ ErrorCode: 0, MsgKey: expect.any(String) });
    expect(emulator.tencent.typing('alice', '@RBT#typist')).toMatchObject({ statusText: 'search' });
    expect(emulator.tencent.conversation('alice', '@RBT#typist')).toEqual([]);
    await rawCall(emulator, 'openim/sendmsg', {
      From_Account: '@RBT#typist',
      To_Account: 'alice',
      MsgRandom: 8,
      MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'the answer' } }],
    });
    expect(emulator.tencent.typing('alice', '@RBT#typist')).toBeUndefined();
    expect(emulator.tencent.conversation('alice', '@RBT#typist')).toHaveLength(1);
  });

  it('refuses a typing element whose fields disagree (10004); without MsgLifeTime 0 it is stored like any custom message', async () => {
    expect(await code(rawCall(emulator, 'openim/sendmsg', typingBody({ ...typing, userAction: 0 })))).toBe(
      10004,
    );
    expect(await code(rawCall(emulator, 'openim/sendmsg', typingBody({ ...typing, typingStatus: 2 })))).toBe(
      10004,
    );
    expect(await code(rawCall(emulator, 'openim/sendmsg', typingBody(typing, { MsgLifeTime: 60 })))).toBe(0);
    expect(emulator.tencent.conversation('alice', '@RBT#typist')).toEqual([
      expect.objectContaining({ kind: 'custom' }),
    ]);
  });
});
