import { type Emulator, startEmulator } from '@imbot/emulator';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ApiError,
  genUserSig,
  ImbotError,
  NetworkError,
  TencentApiError,
  TencentIm,
  type TencentImOptions,
  TimeoutError,
  ValidationError,
} from '../src/index.js';

const SDK_APP_ID = 1400000000;
const SECRET_KEY = 'core-test-secret-key';
const ADMIN = 'administrator';

let emulator: Emulator;
let im: TencentIm;

const calls = () => emulator.tencent.calls();
const fail = (api: string, count: number, fault: Parameters<Emulator['faults']['failNext']>[2]) =>
  emulator.faults.failNext(`openim_robot_http_svc/${api}`, count, fault);

function client(options: Partial<TencentImOptions> = {}): TencentIm {
  return new TencentIm({
    sdkAppId: SDK_APP_ID,
    admin: ADMIN,
    secretKey: SECRET_KEY,
    baseUrl: emulator.url,
    retry: { retries: 2, minDelayMs: 1, maxDelayMs: 5 },
    ...options,
  });
}

beforeEach(async () => {
  emulator = await startEmulator({ tencent: { sdkAppId: SDK_APP_ID, secretKey: SECRET_KEY, admin: ADMIN } });
  im = client();
});
afterEach(async () => {
  await im.close();
  await emulator.close();
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

const sig = (now = Date.now(), expireSeconds = 3600) =>
  genUserSig({ sdkAppId: SDK_APP_ID, secretKey: SECRET_KEY, userId: ADMIN, expireSeconds, now });

describe('requests', () => {
  it('signs every call with the documented query and a fresh uint32 random, and a JSON object body', async () => {
    await im.getAllRobots();
    await im.getAllRobots();
    const [first, second] = calls();
    expect(first?.errorCode).toBe(0); // the emulator verified sdkappid, identifier and UserSig
    expect(first?.query).toMatchObject({
      sdkappid: String(SDK_APP_ID),
      identifier: ADMIN,
      contenttype: 'json',
    });
    const random = Number(first?.query.random);
    expect(Number.isInteger(random) && random >= 0 && random < 2 ** 32).toBe(true);
    expect(second?.query.random).not.toBe(first?.query.random);
    expect(first?.body).toEqual({});
  });

  it('makes the admin UserSig once and reuses it', async () => {
    let made = 0;
    im = client({
      secretKey: undefined,
      userSig: () => {
        made++;
        return sig();
      },
    });
    await im.getAllRobots();
    await im.getAllRobots();
    expect(made).toBe(1);
  });
});

describe('robot APIs', () => {
  it('createRobot creates the robot with its profile', async () => {
    await im.createRobot({
      userId: '@RBT#001',
      nick: 'Jarvis',
      faceUrl: 'https://example.com/a.png',
      selfSignature: 'hi',
    });
    expect(calls()[0]?.body).toEqual({
      UserID: '@RBT#001',
      Nick: 'Jarvis',
      FaceUrl: 'https://example.com/a.png',
      SelfSignature: 'hi',
    });
    expect(emulator.tencent.robots()).toMatchObject([
      {
        userId: '@RBT#001',
        valid: true,
        profile: { nick: 'Jarvis', faceUrl: 'https://example.com/a.png', selfSignature: 'hi' },
      },
    ]);
  });

  it('getAllRobots lists the robots', async () => {
    await im.createRobot({ userId: '@RBT#001' });
    await im.createRobot({ userId: '@RBT#002' });
    expect(await im.getAllRobots()).toEqual(['@RBT#001', '@RBT#002']);
  });

  it('deleteRobot takes a robot off the list', async () => {
    await im.createRobot({ userId: '@RBT#001' });
    await im.deleteRobot('@RBT#001');
    expect(calls()[1]?.body).toEqual({ Robot_Account: '@RBT#001' });
    expect(await im.getAllRobots()).toEqual([]);
  });

  it('sendStreamMsg streams one message: MsgKey from the first call, Finish: 1 on the last', async () => {
    await im.createRobot({ userId: '@RBT#my_bot' });
    const { msgKey } = await im.sendStreamMsg({ from: '@RBT#my_bot', to: 'user01', chunk: 'hello, ' });
    await im.sendStreamMsg({ from: '@RBT#my_bot', to: 'user01', chunk: 'world', msgKey, finish: true });
    expect(
      calls()
        .slice(1)
        .map((c) => c.body),
    ).toEqual([
      { From_Account: '@RBT#my_bot', To_Account: 'user01', Chunk: 'hello, ' },
      { From_Account: '@RBT#my_bot', To_Account: 'user01', Chunk: 'world', MsgKey: msgKey, Finish: 1 },
    ]);
    expect(emulator.tencent.conversation('user01', '@RBT#my_bot')).toMatchObject([
      { text: 'hello, world', state: 'finished', kind: 'stream' },
    ]);
  });
});

describe('messages and profiles', () => {
  it('sendMsg sends text as a TIMTextElem and returns MsgKey and MsgTime', async () => {
    const sent = await im.sendMsg({ from: '@RBT#001', to: 'user01', text: 'hello' });
    expect(sent.msgKey).toMatch(/^\d+_\d+_\d+$/);
    expect(calls()[0]?.body).toMatchObject({
      SyncOtherMachine: 1,
      From_Account: '@RBT#001',
      To_Account: 'user01',
      MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'hello' } }],
    });
    const [stored] = emulator.tencent.conversation('user01', '@RBT#001');
    expect(stored).toMatchObject({ from: '@RBT#001', text: 'hello', msgKey: sent.msgKey });
    // MsgTime is the cloud's time for the message, in seconds: the emulator's own record of it.
    expect(sent.msgTime).toBe(Math.floor((stored?.time as number) / 1000));
  });

  it('sendMsg passes other element kinds through, sent by the admin without from', async () => {
    const element = { MsgType: 'TIMCustomElem', MsgContent: { Data: '{"card":1}', Desc: 'a card' } };
    await im.sendMsg({ to: 'user01', msgBody: [element] });
    expect(calls()[0]?.body).toMatchObject({ MsgBody: [element] });
    expect(calls()[0]?.body).not.toHaveProperty('From_Account');
    expect(emulator.tencent.conversation('user01', ADMIN)).toMatchObject([
      { kind: 'custom', text: 'a card' },
    ]);
  });

  it('setProfile writes the three profile tags', async () => {
    await im.setProfile('@RBT#001', {
      nick: 'Jarvis',
      faceUrl: 'https://e.com/a.png',
      selfSignature: 'on duty',
    });
    expect(calls()[0]?.body).toEqual({
      From_Account: '@RBT#001',
      ProfileItem: [
        { Tag: 'Tag_Profile_IM_Nick', Value: 'Jarvis' },
        { Tag: 'Tag_Profile_IM_Image', Value: 'https://e.com/a.png' },
        { Tag: 'Tag_Profile_IM_SelfSignature', Value: 'on duty' },
      ],
    });
  });

  it('getProfiles reads profiles back, 100 accounts per call, leaving unknown accounts out', async () => {
    const ids = Array.from({ length: 150 }, (_, i) => `user${i}`);
    await Promise.all(ids.map((id) => im.setProfile(id, { nick: `nick of ${id}` })));
    const profiles = await im.getProfiles([...ids, 'ghost']);
    const sizes = calls()
      .filter((c) => c.api === 'profile/portrait_get')
      .map((c) => (c.body as { To_Account: string[] }).To_Account.length);
    expect(sizes.sort()).toEqual([100, 51]);
    expect(profiles).toHaveLength(150);
    expect(profiles.find((p) => p.userId === 'user7')).toEqual({ userId: 'user7', nick: 'nick of user7' });
  });

  it('call() reaches any other REST API and returns its whole answer', async () => {
    emulator.tencent.createGroup({ groupId: 'g1' });
    const answer = await im.call('v4/group_open_http_svc/send_group_msg', {
      GroupId: 'g1',
      Random: 1,
      MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'hi group' } }],
    });
    expect(answer.MsgSeq).toBe(1);
    expect(emulator.tencent.groupConversation('g1')).toMatchObject([{ text: 'hi group', from: ADMIN }]);
  });
});

describe('validation before any request', () => {
  const cases: [string, () => Promise<unknown>, string][] = [
    ['a robot id without the prefix', () => im.createRobot({ userId: 'RBT001' }), 'createRobot.userId'],
    ['a 33-byte robot id', () => im.createRobot({ userId: `@RBT#${'é'.repeat(14)}` }), 'createRobot.userId'],
    [
      'a 501-byte nick',
      () => im.createRobot({ userId: '@RBT#1', nick: 'x'.repeat(501) }),
      'createRobot.nick',
    ],
    [
      'a 501-byte SelfSignature',
      () => im.setProfile('@RBT#1', { selfSignature: '字'.repeat(167) }),
      'setProfile.selfSignature',
    ],
    ['an empty chunk', () => im.sendStreamMsg({ from: '@RBT#1', to: 'u', chunk: '' }), 'sendStreamMsg.chunk'],
    [
      'a non-robot sender of a stream',
      () => im.sendStreamMsg({ from: 'u2', to: 'u', chunk: 'x' }),
      'sendStreamMsg.from',
    ],
    ['a message over 12 KB', () => im.sendMsg({ to: 'u', text: 'x'.repeat(12 * 1024 + 1) }), 'sendMsg.text'],
    ['an empty profile update', () => im.setProfile('@RBT#1', {}), 'setProfile'],
    ['a malformed API path', () => im.call('not a path'), 'api'],
    ['deleting a non-robot', () => im.deleteRobot('user01'), 'deleteRobot.userId'],
  ];

  it.each(cases)('rejects %s', async (_, run, field) => {
    const error = await failure(run());
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe(field);
    expect(calls()).toHaveLength(0);
  });

  it('names the field and the limit in bytes', async () => {
    const error = await failure(im.createRobot({ userId: `@RBT#${'é'.repeat(14)}` }));
    expect(error.message).toBe(
      'createRobot.userId: "@RBT#éééééééééééééé" is 33 bytes; the limit is 32 bytes (UTF-8)',
    );
    expect((error as ValidationError).limit).toBe('32 bytes');
  });

  it('rejects bad options naming the option', () => {
    const make = (options: Partial<TencentImOptions>) => () => client(options);
    expect(make({ sdkAppId: -1 })).toThrow(/options\.sdkAppId/);
    expect(make({ userSig: () => 'x' })).toThrow(/either secretKey or userSig/);
    expect(make({ region: 'singapore' })).toThrow(/either region or baseUrl/);
    expect(make({ baseUrl: 'ftp://x' })).toThrow(/options\.baseUrl/);
    expect(make({ baseUrl: undefined, region: 'mars' as never })).toThrow(/options\.region/);
  });
});

describe('errors and retries', () => {
  it('retries a retryable cloud code (10002) and succeeds', async () => {
    fail('get_all_robots', 1, { errorCode: 10002 });
    expect(await im.getAllRobots()).toEqual([]);
    expect(calls().map((c) => c.errorCode)).toEqual([10002, 0]);
  });

  it('retries a frequency-limit code on sendStreamMsg, since the chunk was refused, not appended', async () => {
    await im.createRobot({ userId: '@RBT#1' });
    fail('send_stream_msg', 1, { errorCode: 60007 });
    await im.sendStreamMsg({ from: '@RBT#1', to: 'u', chunk: 'x' });
    expect(emulator.tencent.conversation('u', '@RBT#1').map((m) => m.text)).toEqual(['x']);
  });

  it('does not retry a non-retryable code, and reports code, info and request id', async () => {
    fail('create_robot', 1, { errorCode: 10004, errorInfo: 'invalid parameter' });
    const error = await failure(im.createRobot({ userId: '@RBT#1' }));
    expect(error).toBeInstanceOf(TencentApiError);
    expect(error).toMatchObject({
      code: 'TENCENT_API',
      errorCode: 10004,
      errorInfo: 'invalid parameter',
      retryable: false,
      endpoint: 'v4/openim_robot_http_svc/create_robot',
    });
    expect(calls()[0]?.answer).toMatchObject({ RequestId: (error as TencentApiError).requestId });
    expect((error as TencentApiError).requestId).toMatch(/^Id-/);
    expect(calls()).toHaveLength(1);
  });

  it('stops after the retry budget and throws the last error', async () => {
    fail('get_all_robots', 10, { errorCode: 10002 });
    const error = await failure(im.getAllRobots());
    expect(error).toMatchObject({ errorCode: 10002, retryable: true });
    expect(calls()).toHaveLength(3);
  });

  it('renews an expired UserSig (70001) and retries once', async () => {
    const made: string[] = [];
    im = client({
      secretKey: undefined,
      // The first UserSig handed over has already expired: the emulator answers 70001.
      userSig: () => {
        made.push(made.length === 0 ? sig(Date.now() - 7200_000) : sig());
        return made.at(-1) as string;
      },
    });
    expect(await im.getAllRobots()).toEqual([]);
    expect(made).toHaveLength(2);
    expect(calls().map((c) => c.errorCode)).toEqual([70001, 0]);
  });

  it('renews at most once per call when the cloud keeps saying 70001', async () => {
    fail('get_all_robots', 5, { errorCode: 70001 });
    const error = await failure(im.getAllRobots());
    expect(error).toMatchObject({ errorCode: 70001 });
    expect(calls()).toHaveLength(2);
  });

  it('times out a call that gets no answer, retrying it only when it is idempotent', async () => {
    im = client({ timeoutMs: 50 });
    fail('get_all_robots', 3, 'hang');
    const read = await failure(im.getAllRobots());
    expect(read).toBeInstanceOf(TimeoutError);
    expect(read.message).toBe('v4/openim_robot_http_svc/get_all_robots did not answer within 50 ms');
    expect(calls()).toHaveLength(3);
    await im.createRobot({ userId: '@RBT#1' });
    fail('send_stream_msg', 1, 'hang');
    const chunk = await failure(im.sendStreamMsg({ from: '@RBT#1', to: 'u', chunk: 'x' }));
    expect(chunk).toBeInstanceOf(TimeoutError);
    expect(calls()).toHaveLength(5);
  });

  it('reports a body that is not JSON as MALFORMED_RESPONSE, without resending a chunk', async () => {
    await im.createRobot({ userId: '@RBT#1' });
    fail('send_stream_msg', 1, 'malformed');
    const error = await failure(im.sendStreamMsg({ from: '@RBT#1', to: 'u', chunk: 'x' }));
    expect(error).toBeInstanceOf(ApiError);
    expect(error.code).toBe('MALFORMED_RESPONSE');
    expect(calls()).toHaveLength(2);
  });

  it('retries HTTP 502 for idempotent calls but not for a stream chunk', async () => {
    fail('get_all_robots', 1, 'http-502');
    expect(await im.getAllRobots()).toEqual([]);
    await im.createRobot({ userId: '@RBT#1' });
    fail('send_stream_msg', 1, 'http-502');
    const error = await failure(im.sendStreamMsg({ from: '@RBT#1', to: 'u', chunk: 'x' }));
    expect(error).toMatchObject({ code: 'HTTP_STATUS', status: 502 });
    expect(calls().filter((c) => c.api.endsWith('send_stream_msg'))).toHaveLength(1);
  });

  it('does not resend a stream chunk after a reset connection, so an applied chunk never shows twice', async () => {
    await im.createRobot({ userId: '@RBT#1' });
    fail('send_stream_msg', 1, 'reset-after');
    const error = await failure(im.sendStreamMsg({ from: '@RBT#1', to: 'u', chunk: 'x' }));
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as NetworkError).sent).toBe(true);
    expect(emulator.tencent.conversation('u', '@RBT#1').map((m) => m.text)).toEqual(['x']);
  });

  it('resends sendMsg after a reset with the same MsgSeq and MsgRandom, and the cloud shows it once', async () => {
    emulator.faults.failNext('openim/sendmsg', 1, 'reset-after');
    await im.sendMsg({ to: 'u', text: 'once' });
    const [first, second] = calls().map((c) => c.body as { MsgSeq: number; MsgRandom: number });
    expect(second?.MsgSeq).toBe(first?.MsgSeq);
    expect(second?.MsgRandom).toBe(first?.MsgRandom);
    expect(emulator.tencent.conversation('u', ADMIN).map((m) => m.text)).toEqual(['once']);
  });

  it('retries a refused connection even for a stream chunk, since nothing was sent', async () => {
    // Every attempt takes a permit: a limiter that counts them counts the attempts.
    let attempts = 0;
    const counting = {
      acquire: async () => {
        attempts++;
        return { release() {} };
      },
    };
    im = client({ baseUrl: 'http://127.0.0.1:9', rateLimit: counting });
    const error = await failure(im.sendStreamMsg({ from: '@RBT#1', to: 'u', chunk: 'x' }));
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({ sent: false });
    expect(attempts).toBe(3); // the first and the policy's 2 retries
  });
});

describe('rate limiting', () => {
  it('250 concurrent getAllRobots: never more than 200 arrive in any second, and none fails', async () => {
    const results = await Promise.all(Array.from({ length: 250 }, () => im.getAllRobots()));
    expect(results).toHaveLength(250);
    expect(emulator.tencent.rate()['openim_robot_http_svc/get_all_robots']).toMatchObject({
      accepted: 250,
      rejected: 0,
      busiestWindow: 200,
    });
    const times = calls().map((c) => c.time);
    // The first 200 went as one burst; the other 50 waited for the window.
    expect((times[199] as number) - (times[0] as number)).toBeLessThan(500);
    expect((times[200] as number) - (times[0] as number)).toBeGreaterThanOrEqual(1000);
  });
});

describe('backup domain', () => {
  it('completes its calls on the backup when the primary refuses connections, and stays there', async () => {
    const failover = client({ backupBaseUrl: emulator.tencent.backupUrl });
    emulator.tencent.failOrigin('primary', 'reset');
    expect(await failover.getAllRobots()).toEqual([]);
    expect(failover.currentOrigin).toBe(emulator.tencent.backupUrl);
    await failover.createRobot({ userId: '@RBT#backup' });
    const sent = await failover.sendMsg({ from: '@RBT#backup', to: 'alice', text: 'via the backup' });
    expect(sent.msgKey).toBeTruthy();
    // A stream on the backup, whole and finished.
    const finish = await failover
      .openStream({ from: '@RBT#backup', to: 'bob' })
      .end('Streamed on the backup domain.');
    expect(finish.reason).toBe('completed');
    expect(emulator.tencent.conversation('bob', '@RBT#backup').at(-1)).toMatchObject({
      text: 'Streamed on the backup domain.',
      state: 'finished',
    });
    await failover.close();
  });

  it('moves on 503 and back when the backup fails in turn; a region knows its backup domain', async () => {
    const failover = client({ backupBaseUrl: emulator.tencent.backupUrl });
    emulator.tencent.failOrigin('primary', 'http-503');
    await failover.getAllRobots();
    expect(failover.currentOrigin).toBe(emulator.tencent.backupUrl);
    emulator.tencent.failOrigin('primary', null);
    emulator.tencent.failOrigin('backup', 'http-503');
    await failover.getAllRobots();
    expect(failover.currentOrigin).toBe(emulator.url);
    await failover.close();
    const regional = new TencentIm({
      sdkAppId: SDK_APP_ID,
      admin: ADMIN,
      secretKey: SECRET_KEY,
      region: 'singapore',
    });
    expect(regional.currentOrigin).toBe('https://adminapisgp.im.qcloud.com');
    await regional.close();
    expect(() => client({ baseUrl: undefined, region: 'singapore', backupBaseUrl: emulator.url })).toThrow(
      expect.objectContaining({ field: 'options.backupBaseUrl' }),
    );
  });
});
