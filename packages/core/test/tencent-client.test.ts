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
import { ADMIN, type FakeTencent, SDK_APP_ID, SECRET_KEY, startFakeTencent } from './tencent-server.js';

let server: FakeTencent;
let im: TencentIm;

function client(options: Partial<TencentImOptions> = {}): TencentIm {
  return new TencentIm({
    sdkAppId: SDK_APP_ID,
    admin: ADMIN,
    secretKey: SECRET_KEY,
    baseUrl: server.url,
    retry: { retries: 2, minDelayMs: 1, maxDelayMs: 5 },
    ...options,
  });
}

beforeEach(async () => {
  server = await startFakeTencent();
  im = client();
});
afterEach(async () => {
  await im.close();
  await server.close();
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

describe('requests', () => {
  it('signs every call with the documented query and a fresh uint32 random', async () => {
    await im.getAllRobots();
    await im.getAllRobots();
    const [first, second] = server.calls;
    expect(first?.api).toBe('openim_robot_http_svc/get_all_robots');
    expect(first?.query.get('sdkappid')).toBe(String(SDK_APP_ID));
    expect(first?.query.get('identifier')).toBe(ADMIN);
    expect(first?.query.get('contenttype')).toBe('json');
    const random = Number(first?.query.get('random'));
    expect(Number.isInteger(random) && random >= 0 && random < 2 ** 32).toBe(true);
    expect(second?.query.get('random')).not.toBe(first?.query.get('random'));
    expect(first?.body).toEqual({});
  });

  it('reuses one admin UserSig across calls', async () => {
    await im.getAllRobots();
    await im.getAllRobots();
    expect(server.calls[1]?.query.get('usersig')).toBe(server.calls[0]?.query.get('usersig'));
  });

  it('accepts a userSig function instead of the secret key', async () => {
    let made = 0;
    im = client({
      secretKey: undefined,
      userSig: () => {
        made++;
        return genUserSig({
          sdkAppId: SDK_APP_ID,
          secretKey: SECRET_KEY,
          userId: ADMIN,
          expireSeconds: 3600,
        });
      },
    });
    await im.getAllRobots();
    await im.getAllRobots();
    expect(made).toBe(1);
  });
});

describe('robot APIs', () => {
  it('createRobot sends the documented fields', async () => {
    await im.createRobot({
      userId: '@RBT#001',
      nick: 'Jarvis',
      faceUrl: 'https://example.com/a.png',
      selfSignature: 'hi',
    });
    expect(server.calls[0]?.api).toBe('openim_robot_http_svc/create_robot');
    expect(server.calls[0]?.body).toEqual({
      UserID: '@RBT#001',
      Nick: 'Jarvis',
      FaceUrl: 'https://example.com/a.png',
      SelfSignature: 'hi',
    });
  });

  it('getAllRobots returns Robot_Account', async () => {
    server.on('openim_robot_http_svc/get_all_robots', () => ({ Robot_Account: ['@RBT#001', '@RBT#002'] }));
    expect(await im.getAllRobots()).toEqual(['@RBT#001', '@RBT#002']);
  });

  it('deleteRobot sends Robot_Account', async () => {
    await im.deleteRobot('@RBT#001');
    expect(server.calls[0]?.body).toEqual({ Robot_Account: '@RBT#001' });
  });

  it('sendStreamMsg omits MsgKey on the first call, then carries it, and sets Finish: 1 last', async () => {
    server.on('openim_robot_http_svc/send_stream_msg', () => ({ MsgKey: '606781340_3986845397_1706000918' }));
    const { msgKey } = await im.sendStreamMsg({ from: '@RBT#my_bot', to: 'user01', chunk: 'hello, ' });
    await im.sendStreamMsg({ from: '@RBT#my_bot', to: 'user01', chunk: 'world', msgKey, finish: true });
    expect(server.calls.map((c) => c.body)).toEqual([
      { From_Account: '@RBT#my_bot', To_Account: 'user01', Chunk: 'hello, ' },
      {
        From_Account: '@RBT#my_bot',
        To_Account: 'user01',
        Chunk: 'world',
        MsgKey: '606781340_3986845397_1706000918',
        Finish: 1,
      },
    ]);
  });
});

describe('messages and profiles', () => {
  it('sendMsg sends text as a TIMTextElem and returns MsgKey and MsgTime', async () => {
    server.on('openim/sendmsg', () => ({ MsgKey: '1_2_3', MsgTime: 1700000000 }));
    const sent = await im.sendMsg({ from: '@RBT#001', to: 'user01', text: 'hello' });
    expect(sent).toEqual({ msgKey: '1_2_3', msgTime: 1700000000 });
    const body = server.calls[0]?.body as Record<string, unknown>;
    expect(body).toMatchObject({
      SyncOtherMachine: 1,
      From_Account: '@RBT#001',
      To_Account: 'user01',
      MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'hello' } }],
    });
    expect(body.MsgSeq).toBeTypeOf('number');
    expect(body.MsgRandom).toBeTypeOf('number');
  });

  it('sendMsg passes other element kinds through', async () => {
    server.on('openim/sendmsg', () => ({ MsgKey: '1_2_3', MsgTime: 1 }));
    const element = { MsgType: 'TIMCustomElem', MsgContent: { Data: '{"card":1}' } };
    await im.sendMsg({ to: 'user01', msgBody: [element] });
    expect(server.calls[0]?.body).toMatchObject({ MsgBody: [element] });
    expect(server.calls[0]?.body).not.toHaveProperty('From_Account');
  });

  it('setProfile writes the three profile tags', async () => {
    await im.setProfile('@RBT#001', {
      nick: 'Jarvis',
      faceUrl: 'https://e.com/a.png',
      selfSignature: 'on duty',
    });
    expect(server.calls[0]?.api).toBe('profile/portrait_set');
    expect(server.calls[0]?.body).toEqual({
      From_Account: '@RBT#001',
      ProfileItem: [
        { Tag: 'Tag_Profile_IM_Nick', Value: 'Jarvis' },
        { Tag: 'Tag_Profile_IM_Image', Value: 'https://e.com/a.png' },
        { Tag: 'Tag_Profile_IM_SelfSignature', Value: 'on duty' },
      ],
    });
  });

  it('getProfiles reads the tags back, 100 accounts per call, leaving unknown accounts out', async () => {
    server.on('profile/portrait_get', (body) => ({
      UserProfileItem: (body.To_Account as string[]).map((id) =>
        id === 'ghost'
          ? { To_Account: id, ResultCode: 40003, ResultInfo: 'not found' }
          : {
              To_Account: id,
              ResultCode: 0,
              ProfileItem: [
                { Tag: 'Tag_Profile_IM_Nick', Value: `nick of ${id}` },
                { Tag: 'Tag_Profile_IM_Image', Value: '' },
              ],
            },
      ),
    }));
    const ids = [...Array.from({ length: 150 }, (_, i) => `user${i}`), 'ghost'];
    const profiles = await im.getProfiles(ids);
    expect(server.calls).toHaveLength(2);
    const sizes = server.calls.map((c) => (c.body as { To_Account: string[] }).To_Account.length);
    expect(sizes.sort()).toEqual([100, 51]);
    expect(profiles).toHaveLength(150);
    expect(profiles[0]).toEqual({ userId: 'user0', nick: 'nick of user0' });
  });

  it('call() reaches any other REST API and returns its whole answer', async () => {
    server.on('group_open_http_svc/get_group_info', () => ({ GroupInfo: [{ GroupId: 'g1' }] }));
    const answer = await im.call('v4/group_open_http_svc/get_group_info', { GroupIdList: ['g1'] });
    expect(answer.GroupInfo).toEqual([{ GroupId: 'g1' }]);
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
    expect(server.calls).toHaveLength(0);
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
    server.on('openim_robot_http_svc/get_all_robots', (_, n) =>
      n === 0
        ? { ActionStatus: 'FAIL', ErrorCode: 10002, ErrorInfo: 'internal' }
        : { Robot_Account: ['@RBT#1'] },
    );
    expect(await im.getAllRobots()).toEqual(['@RBT#1']);
    expect(server.calls).toHaveLength(2);
  });

  it('retries a frequency-limit code on sendStreamMsg, since the chunk was refused, not appended', async () => {
    server.on('openim_robot_http_svc/send_stream_msg', (_, n) =>
      n === 0 ? { ActionStatus: 'FAIL', ErrorCode: 60007, ErrorInfo: 'too frequent' } : { MsgKey: 'k' },
    );
    expect(await im.sendStreamMsg({ from: '@RBT#1', to: 'u', chunk: 'x' })).toEqual({ msgKey: 'k' });
    expect(server.calls).toHaveLength(2);
  });

  it('does not retry a non-retryable code, and reports code, info and request id', async () => {
    server.on('openim_robot_http_svc/create_robot', () => ({
      ActionStatus: 'FAIL',
      ErrorCode: 10004,
      ErrorInfo: 'invalid parameter',
      RequestId: 'Id-abc',
    }));
    const error = await failure(im.createRobot({ userId: '@RBT#1' }));
    expect(error).toBeInstanceOf(TencentApiError);
    expect(error).toMatchObject({
      code: 'TENCENT_API',
      errorCode: 10004,
      errorInfo: 'invalid parameter',
      requestId: 'Id-abc',
      retryable: false,
      endpoint: 'v4/openim_robot_http_svc/create_robot',
    });
    expect(server.calls).toHaveLength(1);
  });

  it('stops after the retry budget and throws the last error', async () => {
    server.on('openim_robot_http_svc/get_all_robots', () => ({
      ActionStatus: 'FAIL',
      ErrorCode: 10002,
      ErrorInfo: 'x',
    }));
    const error = await failure(im.getAllRobots());
    expect(error).toMatchObject({ errorCode: 10002, retryable: true });
    expect(server.calls).toHaveLength(3);
  });

  it('renews an expired UserSig (70001) and retries once', async () => {
    let made = 0;
    im = client({
      secretKey: undefined,
      userSig: () => {
        made++;
        return genUserSig({
          sdkAppId: SDK_APP_ID,
          secretKey: SECRET_KEY,
          userId: ADMIN,
          expireSeconds: 3600,
        });
      },
    });
    server.on('openim_robot_http_svc/get_all_robots', (_, n) =>
      n === 0
        ? { ActionStatus: 'FAIL', ErrorCode: 70001, ErrorInfo: 'usersig expired' }
        : { Robot_Account: [] },
    );
    expect(await im.getAllRobots()).toEqual([]);
    expect(made).toBe(2);
    expect(server.calls).toHaveLength(2);
  });

  it('renews at most once per call when the cloud keeps saying 70001', async () => {
    server.on('openim_robot_http_svc/get_all_robots', () => ({
      ActionStatus: 'FAIL',
      ErrorCode: 70001,
      ErrorInfo: 'x',
    }));
    const error = await failure(im.getAllRobots());
    expect(error).toMatchObject({ errorCode: 70001 });
    expect(server.calls).toHaveLength(2);
  });

  it('times out a call that gets no answer, retrying it only when it is idempotent', async () => {
    im = client({ timeoutMs: 50 });
    server.on('openim_robot_http_svc/get_all_robots', () => ({ hang: true }));
    server.on('openim_robot_http_svc/send_stream_msg', () => ({ hang: true }));
    const read = await failure(im.getAllRobots());
    expect(read).toBeInstanceOf(TimeoutError);
    expect(read.message).toBe('v4/openim_robot_http_svc/get_all_robots did not answer within 50 ms');
    expect(server.calls).toHaveLength(3);
    const chunk = await failure(im.sendStreamMsg({ from: '@RBT#1', to: 'u', chunk: 'x' }));
    expect(chunk).toBeInstanceOf(TimeoutError);
    expect(server.calls).toHaveLength(4);
  });

  it('reports a body that is not JSON as MALFORMED_RESPONSE', async () => {
    server.on('openim_robot_http_svc/send_stream_msg', () => ({ status: 200, raw: '<html>oops</html>' }));
    const error = await failure(im.sendStreamMsg({ from: '@RBT#1', to: 'u', chunk: 'x' }));
    expect(error).toBeInstanceOf(ApiError);
    expect(error.code).toBe('MALFORMED_RESPONSE');
    expect(server.calls).toHaveLength(1);
  });

  it('reports an answer missing a documented field as MALFORMED_RESPONSE', async () => {
    server.on('openim/sendmsg', () => ({ MsgKey: 'k' }));
    const error = await failure(im.sendMsg({ to: 'u', text: 'x' }));
    expect(error.code).toBe('MALFORMED_RESPONSE');
    expect(error.message).toContain('MsgTime');
  });

  it('retries HTTP 502 for idempotent calls but not for a stream chunk', async () => {
    server.on('openim_robot_http_svc/get_all_robots', (_, n) =>
      n === 0 ? { status: 502, raw: 'bad gateway' } : { Robot_Account: [] },
    );
    expect(await im.getAllRobots()).toEqual([]);
    server.on('openim_robot_http_svc/send_stream_msg', () => ({ status: 502, raw: 'bad gateway' }));
    const error = await failure(im.sendStreamMsg({ from: '@RBT#1', to: 'u', chunk: 'x' }));
    expect(error).toMatchObject({ code: 'HTTP_STATUS', status: 502 });
    expect(server.calls).toHaveLength(3);
  });

  it('does not resend a stream chunk after a reset connection, since it may have been appended', async () => {
    server.on('openim_robot_http_svc/send_stream_msg', () => ({ reset: true }));
    const error = await failure(im.sendStreamMsg({ from: '@RBT#1', to: 'u', chunk: 'x' }));
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as NetworkError).sent).toBe(true);
    expect(server.calls).toHaveLength(1);
  });

  it('resends sendMsg after a reset with the same MsgSeq and MsgRandom, so the cloud de-duplicates it', async () => {
    server.on('openim/sendmsg', (_, n) => (n === 0 ? { reset: true } : { MsgKey: 'k', MsgTime: 1 }));
    await im.sendMsg({ to: 'u', text: 'x' });
    const [first, second] = server.calls.map((c) => c.body as { MsgSeq: number; MsgRandom: number });
    expect(second?.MsgSeq).toBe(first?.MsgSeq);
    expect(second?.MsgRandom).toBe(first?.MsgRandom);
  });

  it('retries a refused connection even for a stream chunk, since nothing was sent', async () => {
    const url = server.url;
    await server.close();
    im = client({ baseUrl: url });
    const error = await failure(im.sendStreamMsg({ from: '@RBT#1', to: 'u', chunk: 'x' }));
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({ sent: false });
    server = await startFakeTencent();
  });
});

describe('rate limiting', () => {
  it('250 concurrent getAllRobots: never more than 200 arrive in any second, and none fails', async () => {
    const results = await Promise.all(Array.from({ length: 250 }, () => im.getAllRobots()));
    expect(results).toHaveLength(250);
    const arrivals = server.calls.map((c) => c.arrivedAt).sort((a, b) => a - b);
    expect(arrivals).toHaveLength(250);
    let busiest = 0;
    let from = 0;
    for (let to = 0; to < arrivals.length; to++) {
      while ((arrivals[from] as number) <= (arrivals[to] as number) - 1000) from++;
      busiest = Math.max(busiest, to - from + 1);
    }
    expect(busiest).toBeLessThanOrEqual(200);
    // The first 200 went as a burst, the rest after one window.
    expect((arrivals[199] as number) - (arrivals[0] as number)).toBeLessThan(1000);
  });
});
