import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WebhookVerificationError } from '../errors.js';
import { parseTencentCallback, tencentCallbackSign, verifyTencentCallback } from './webhook.js';

describe('tencentCallbackSign', () => {
  it('matches the documented vector (token xxxxyyyy)', () => {
    expect(tencentCallbackSign('xxxxyyyy', 1669872112)).toBe(
      '17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061',
    );
  });

  it('gives the corrected digest for the English page’s 3+3-letter token', () => {
    expect(tencentCallbackSign('xxxyyy', '1669872112')).toBe(
      'e78a85473bed2cdc8d6fa8c4d5a4ba4735fd64156e15a99516b9890293e135de',
    );
  });
});

describe('verifyTencentCallback', () => {
  const now = 1_700_000_000;
  const query = (params: Record<string, string>) =>
    new URLSearchParams({ SdkAppid: '1400000000', ...params });
  const signed = (time: number, token = 'tok') =>
    query({ RequestTime: String(time), Sign: tencentCallbackSign(token, time) });
  const problem = (
    q: URLSearchParams,
    token?: string,
    more: { allowUnsigned?: boolean; toleranceSeconds?: number } = {},
  ) => {
    try {
      verifyTencentCallback(q, 1400000000, { token, now, ...more });
      return 'accepted';
    } catch (error) {
      expect(error).toBeInstanceOf(WebhookVerificationError);
      return (error as WebhookVerificationError).problem;
    }
  };

  it('accepts a fresh, correctly signed callback, up to 60 s either way', () => {
    expect(problem(signed(now), 'tok')).toBe('accepted');
    expect(problem(signed(now - 60), 'tok')).toBe('accepted');
    expect(problem(signed(now + 60), 'tok')).toBe('accepted');
  });

  it('refuses 61 s old and 61 s ahead, another app, a missing or forged Sign', () => {
    expect(problem(signed(now - 61), 'tok')).toBe('stale');
    expect(problem(signed(now + 61), 'tok')).toBe('stale');
    expect(problem(new URLSearchParams({ SdkAppid: '1400000001' }))).toBe('app-mismatch');
    expect(problem(query({}), 'tok')).toBe('missing-signature');
    expect(problem(signed(now, 'other-token'), 'tok')).toBe('bad-signature');
  });

  it('answers with the HTTP status that fits each problem', () => {
    expect(new WebhookVerificationError('stale', 'x').status).toBe(401);
    expect(new WebhookVerificationError('app-mismatch', 'x').status).toBe(403);
    expect(new WebhookVerificationError('malformed', 'x').status).toBe(400);
  });

  it('refuses every callback when no token is configured, unless unsigned ones are allowed', () => {
    expect(problem(query({}))).toBe('missing-signature');
    expect(problem(signed(now))).toBe('missing-signature');
    expect(problem(query({}), undefined, { allowUnsigned: true })).toBe('accepted');
    expect(problem(new URLSearchParams({ SdkAppid: '1' }), undefined, { allowUnsigned: true })).toBe(
      'app-mismatch',
    );
  });

  it('takes the freshness tolerance as an option', () => {
    expect(problem(signed(now - 30), 'tok', { toleranceSeconds: 10 })).toBe('stale');
    expect(problem(signed(now - 300), 'tok', { toleranceSeconds: 300 })).toBe('accepted');
  });

  it('accepts no Sign but the right one, whatever else is sent', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: now - 60, max: now + 60 }), (sign, time) => {
        const right = tencentCallbackSign('tok', time);
        const verdict = problem(query({ RequestTime: String(time), Sign: sign }), 'tok');
        expect(verdict).toBe(
          sign.toLowerCase() === right ? 'accepted' : sign ? 'bad-signature' : 'missing-signature',
        );
      }),
    );
  });

  it('refuses a RequestTime that is not a number of seconds', () => {
    expect(
      problem(query({ RequestTime: `${now}.5`, Sign: tencentCallbackSign('tok', `${now}.5`) }), 'tok'),
    ).toBe('stale');
  });
});

describe('parseTencentCallback', () => {
  const c2c = {
    CallbackCommand: 'Bot.OnC2CMessage',
    From_Account: 'alice',
    To_Account: '@RBT#1',
    MsgSeq: 1,
    MsgRandom: 2,
    MsgTime: 1700000000,
    MsgKey: '1_2_1700000000',
    MsgBody: [
      { MsgType: 'TIMTextElem', MsgContent: { Text: ' hello ' } },
      { MsgType: 'TIMFaceElem', MsgContent: { Index: 1 } },
    ],
  };

  it('turns Bot.OnC2CMessage into one message, keeping non-text elements as attachments', () => {
    const { messages, events } = parseTencentCallback(c2c);
    expect(events).toEqual([]);
    expect(messages).toEqual([
      {
        platform: 'tencent',
        botId: '@RBT#1',
        from: 'alice',
        conversation: { type: 'c2c', userId: 'alice' },
        text: 'hello',
        rawText: ' hello ',
        mentions: [],
        messageKey: '1_2_1700000000',
        time: new Date(1700000000 * 1000),
        attachments: [{ kind: 'other', raw: c2c.MsgBody[1] }],
        raw: c2c,
      },
    ]);
  });

  it('marks the interrupt message of Tencent’s AI robots (chatbotPlugin, src 22) as a stop, and nothing else', () => {
    const custom = (data: unknown) => ({
      ...c2c,
      MsgBody: [{ MsgType: 'TIMCustomElem', MsgContent: { Data: JSON.stringify(data) } }],
    });
    const [stop] = parseTencentCallback(custom({ chatbotPlugin: 2, src: 22 })).messages;
    expect(stop).toMatchObject({ stop: true, text: '', attachments: [] });
    for (const other of [{ chatbotPlugin: 2, src: 2 }, { src: 22 }, 'chatbotPlugin'])
      expect(parseTencentCallback(custom(other)).messages[0]?.stop).toBeUndefined();
  });

  it('keeps the msgKey a TUIKit Stop names, and marks the greeting (src 7) of either plugin version', () => {
    const custom = (data: unknown) => ({
      ...c2c,
      MsgBody: [{ MsgType: 'TIMCustomElem', MsgContent: { Data: JSON.stringify(data) } }],
    });
    const [stop] = parseTencentCallback(
      custom({ chatbotPlugin: 2, src: 22, msgKey: '7_8_1700000000' }),
    ).messages;
    expect(stop).toMatchObject({ stop: true, stopMessageId: '7_8_1700000000', attachments: [] });
    expect(stop?.greeting).toBeUndefined();
    for (const version of [1, 2]) {
      const [hello] = parseTencentCallback(custom({ chatbotPlugin: version, src: 7 })).messages;
      expect(hello).toMatchObject({ greeting: true, text: '', attachments: [] });
      expect(hello?.stop).toBeUndefined();
    }
  });

  it('turns Bot.OnGroupMessage into one message per mentioned robot, mentions (@RBT#…, or doubled) stripped', () => {
    const group = {
      CallbackCommand: 'Bot.OnGroupMessage',
      GroupId: 'g1',
      From_Account: 'bob',
      MsgSeq: 42,
      MsgTime: 1700000000,
      MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: '@RBT#1 @@RBT#2 what now?' } }],
      AtRobots_Account: ['@RBT#1', '@RBT#2'],
    };
    const { messages } = parseTencentCallback(group);
    expect(messages.map((m) => [m.botId, m.text, m.messageKey, m.conversation])).toEqual([
      ['@RBT#1', 'what now?', 'g1:42', { type: 'group', groupId: 'g1' }],
      ['@RBT#2', 'what now?', 'g1:42', { type: 'group', groupId: 'g1' }],
    ]);
  });

  it('passes other commands through and refuses malformed ones', () => {
    expect(parseTencentCallback({ CallbackCommand: 'State.StateChange', Info: {} }).events).toEqual([
      { command: 'State.StateChange', raw: { CallbackCommand: 'State.StateChange', Info: {} } },
    ]);
    expect(() => parseTencentCallback({ ...c2c, MsgKey: 5 })).toThrow(WebhookVerificationError);
    expect(() => parseTencentCallback([])).toThrow(/no CallbackCommand/);
  });
});
