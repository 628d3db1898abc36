import { describe, expect, it } from 'vitest';
import { ApiError } from '../errors.js';
import { TencentApiError } from './errors.js';
import { readTencentAnswer, tencentQueryHead, tencentRequestPath } from './protocol.js';
import { getAllRobotsAnswer, sendMsgAnswer } from './schemas.js';

const keep = (text: string) => text;
const answer = (body: unknown, status = 200) => ({
  status,
  headers: {},
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

describe('tencentRequestPath', () => {
  it('builds the documented query, escaping the UserSig', () => {
    expect(
      tencentRequestPath(
        'openim/sendmsg',
        tencentQueryHead({ sdkAppId: 88888888, identifier: 'admin', userSig: 'a*b-c_' }),
        99999999,
      ),
    ).toBe(
      '/v4/openim/sendmsg?sdkappid=88888888&identifier=admin&usersig=a*b-c_&random=99999999&contenttype=json',
    );
  });
});

describe('readTencentAnswer', () => {
  it('returns the parsed answer, keeping fields it does not know', () => {
    const read = readTencentAnswer(
      answer({ ActionStatus: 'OK', ErrorInfo: '', ErrorCode: 0, Robot_Account: ['@RBT#001'], NewField: 1 }),
      'v4/x',
      getAllRobotsAnswer,
      keep,
    );
    expect(read.Robot_Account).toEqual(['@RBT#001']);
    expect(read.NewField).toBe(1);
  });

  it('turns FAIL into TencentApiError, with a hint for codes that are easy to misread', () => {
    const read = () =>
      readTencentAnswer(
        answer({ ActionStatus: 'FAIL', ErrorCode: 70016, ErrorInfo: 'no key' }),
        'v4/x',
        getAllRobotsAnswer,
        keep,
      );
    expect(read).toThrow(TencentApiError);
    expect(read).toThrow(
      'v4/x failed with ErrorCode 70016: no key (the SDKAppID is not in this data centre: check region)',
    );
  });

  it('calls an answer missing a documented field malformed, naming the field', () => {
    let error: unknown;
    try {
      readTencentAnswer(
        answer({ ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '', MsgKey: 'k' }),
        'v4/openim/sendmsg',
        sendMsgAnswer,
        keep,
      );
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({
      code: 'MALFORMED_RESPONSE',
      message: expect.stringContaining('field MsgTime'),
    });
  });

  it('calls a body without the envelope malformed, and a non-200 status HTTP_STATUS', () => {
    expect(() => readTencentAnswer(answer({ hello: 1 }), 'v4/x', getAllRobotsAnswer, keep)).toThrow(
      /no ActionStatus/,
    );
    expect(() => readTencentAnswer(answer('x', 503), 'v4/x', getAllRobotsAnswer, keep)).toThrow(
      'v4/x answered HTTP 503',
    );
  });
});
