import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WebhookVerificationError } from '../errors.js';
import { rongCloudHeaders, signRongCloud } from './signature.js';
import { parseRongCloudCallback, verifyRongCloudCallback } from './webhook.js';

const appKey = 'app-key';
const appSecret = 'app-secret';
const now = 1_726_627_371_000;
const SHA1_VECTOR = '91e7bc8390e83df46574469943a8c7cda5de5d31';

function signedQuery(overrides: Record<string, string> = {}, at = now, nonce = 'n0nce'): URLSearchParams {
  const timestamp = String(at);
  return new URLSearchParams({
    appKey,
    nonce,
    timestamp,
    signature: signRongCloud({ appSecret, nonce, timestamp }),
    ...overrides,
  });
}

function problem(query: URLSearchParams, headers: Record<string, string> = {}): string {
  try {
    verifyRongCloudCallback(query, headers, { appKey, appSecret, now });
    return 'accepted';
  } catch (error) {
    expect(error).toBeInstanceOf(WebhookVerificationError);
    return (error as WebhookVerificationError).problem;
  }
}

describe('signRongCloud', () => {
  it('is the lowercase hex SHA-1 of secret, nonce and timestamp', () => {
    // sha1("secret" + "83682" + "1726627371000"), computed independently with `sha1sum`.
    expect(signRongCloud({ appSecret: 'secret', nonce: '83682', timestamp: 1726627371000 })).toBe(
      SHA1_VECTOR,
    );
  });

  it('signs every request afresh, with a nonce of at most 18 characters', () => {
    const a = rongCloudHeaders({ appKey, appSecret });
    const b = rongCloudHeaders({ appKey, appSecret });
    expect(a.Nonce).not.toBe(b.Nonce);
    expect(a.Nonce?.length).toBeLessThanOrEqual(18);
    expect(a.Signature).toBe(
      signRongCloud({ appSecret, nonce: a.Nonce as string, timestamp: a.Timestamp as string }),
    );
  });
});

describe('verifyRongCloudCallback', () => {
  it('accepts a signed callback from the query or the RC-* headers, with ms or s timestamps', () => {
    expect(problem(signedQuery())).toBe('accepted');
    const s = String(Math.floor(now / 1000));
    expect(
      problem(
        new URLSearchParams({
          nonce: 'x',
          timestamp: s,
          signature: signRongCloud({ appSecret, nonce: 'x', timestamp: s }),
        }),
      ),
    ).toBe('accepted');
    const q = signedQuery();
    const headers = {
      'rc-app-key': appKey,
      'rc-nonce': q.get('nonce') as string,
      'rc-timestamp': q.get('timestamp') as string,
      'rc-signature': q.get('signature') as string,
    };
    expect(problem(new URLSearchParams(), headers)).toBe('accepted');
    const st = new URLSearchParams({
      nonce: 'y',
      signTimestamp: String(now),
      signature: signRongCloud({ appSecret, nonce: 'y', timestamp: now }),
    });
    expect(problem(st)).toBe('accepted');
  });

  it('refuses a forged signature, another app, a missing part, a stale timestamp and a replayed nonce', () => {
    expect(
      problem(
        signedQuery({ signature: signRongCloud({ appSecret: 'guess', nonce: 'n0nce', timestamp: now }) }),
      ),
    ).toBe('bad-signature');
    expect(problem(signedQuery({ appKey: 'other' }))).toBe('app-mismatch');
    expect(problem(new URLSearchParams({ nonce: 'x', timestamp: String(now) }))).toBe('missing-signature');
    expect(problem(signedQuery({}, now - 60_000 - 1))).toBe('stale');
    expect(problem(signedQuery({}, now + 60_000 + 1))).toBe('stale');
    expect(problem(signedQuery({}, now - 60_000))).toBe('accepted');
  });

  it('gives the replay key of a request and how long it stays fresh', () => {
    const verify = (query: URLSearchParams, toleranceMs?: number) =>
      verifyRongCloudCallback(query, {}, { appKey, appSecret, now, toleranceMs });
    expect(verify(signedQuery())).toEqual({ replayKey: `n0nce:${now}`, replayTtlMs: 60_000 });
    expect(verify(signedQuery({}, now - 20_000)).replayTtlMs).toBe(40_000);
    expect(verify(signedQuery({}, now, 'other')).replayKey).not.toBe(verify(signedQuery()).replayKey);
    expect(verify(signedQuery({}, now - 200_000), 300_000).replayTtlMs).toBe(100_000);
  });

  it('accepts no signature but the right one', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), (signature) => {
        const right = signedQuery().get('signature') as string;
        const verdict = problem(signedQuery({ signature }));
        expect(verdict).toBe(signature.toLowerCase() === right ? 'accepted' : 'bad-signature');
      }),
    );
  });
});

describe('parseRongCloudCallback', () => {
  const body = (type: string, data: Record<string, unknown>) => ({
    type,
    timestamp: now,
    bot: { userId: 'bot-1' },
    data: { fromUserId: 'alice', objectName: 'RC:TxtMsg', msgUID: 'UID1', ...data },
  });

  it('turns message:private into a one-to-one message', () => {
    const { messages } = parseRongCloudCallback(
      body('message:private', { toUserId: 'bot-1', content: '{"content":"hi","extra":""}' }),
    );
    expect(messages).toMatchObject([
      {
        platform: 'rongcloud',
        botId: 'bot-1',
        from: 'alice',
        conversation: { type: 'c2c', userId: 'alice' },
        text: 'hi',
        messageKey: 'UID1',
        time: new Date(now),
      },
    ]);
  });

  it('turns message:group into a group message for the bot only when it is mentioned', () => {
    const content = JSON.stringify({
      content: '@bot-1 status?',
      mentionedInfo: { type: 2, userIdList: ['bot-1'] },
    });
    const { messages } = parseRongCloudCallback(body('message:group', { groupId: 'g1', content }));
    expect(messages).toMatchObject([
      { conversation: { type: 'group', groupId: 'g1' }, text: 'status?', mentions: ['bot-1'] },
    ]);
    const unmentioned = JSON.stringify({ content: 'chatter' });
    expect(
      parseRongCloudCallback(body('message:group', { groupId: 'g1', content: unmentioned })).messages,
    ).toEqual([]);
  });

  it('describes pictures and files as attachments, and refuses malformed bodies', () => {
    const image = parseRongCloudCallback(
      body('message:private', { objectName: 'RC:ImgMsg', content: '{"imageUri":"https://i/x.png"}' }),
    );
    expect(image.messages[0]?.attachments).toMatchObject([{ kind: 'image', url: 'https://i/x.png' }]);
    expect(() => parseRongCloudCallback(body('message:private', { content: 'not json' }))).toThrow(
      /not JSON/,
    );
    expect(() => parseRongCloudCallback({ data: {} })).toThrow(/no type/);
    expect(parseRongCloudCallback({ type: 'bot:added', timestamp: now }).events).toHaveLength(1);
  });
});
