/**
 * The apps the conformance tests run, and signed callbacks of each cloud: the query string (signed
 * as told, so that a test can forge, age or leave out the signature) and the body of a user message.
 */
import { randomUUID } from 'node:crypto';
import { signRongCloud } from '@imbot/core';
import { tencentCallbackSign } from '@imbot/core/tencent';

export const TENCENT = { sdkAppId: 1400000000, secretKey: 'conformance-key', admin: 'administrator' };
export const TOKEN = 'conformance-token';
export const RONG = { appKey: 'conformance-app', appSecret: 'conformance-secret' };

export type CloudName = 'tencent' | 'rongcloud';
interface Signing {
  time?: number;
  secret?: string;
  app?: string;
  unsigned?: boolean;
  nonce?: string;
}

export const clouds = {
  tencent: {
    bot: '@RBT#conformance',
    query({ time = Math.floor(Date.now() / 1000), secret = TOKEN, app, unsigned }: Signing = {}): string {
      const q = new URLSearchParams({
        SdkAppid: app ?? String(TENCENT.sdkAppId),
        CallbackCommand: 'Bot.OnC2CMessage',
        contenttype: 'json',
      });
      if (!unsigned) {
        q.set('RequestTime', String(time));
        q.set('Sign', tencentCallbackSign(secret, time));
      }
      return q.toString();
    },
    body(text: string, key = randomUUID(), from = 'alice'): string {
      return tencentBody(from, key, [{ MsgType: 'TIMTextElem', MsgContent: { Text: text } }]);
    },
    /** A press of a card button whose value is `value`, as a client reports it. */
    press(value: string, from = 'alice', key = randomUUID()): string {
      const data = JSON.stringify({ businessID: BUTTON_PRESS, value });
      return tencentBody(from, key, [{ MsgType: 'TIMCustomElem', MsgContent: { Data: data, Desc: value } }]);
    },
  },
  rongcloud: {
    bot: 'conformance-bot',
    query({ time, secret = RONG.appSecret, app, unsigned, nonce = randomUUID() }: Signing = {}): string {
      const timestamp = String(time === undefined ? Date.now() : time * 1000);
      const q = new URLSearchParams({ appKey: app ?? RONG.appKey });
      if (!unsigned) {
        q.set('nonce', nonce);
        q.set('timestamp', timestamp);
        q.set('signature', signRongCloud({ appSecret: secret, nonce, timestamp }));
      }
      return q.toString();
    },
    body(text: string, key = randomUUID(), from = 'alice'): string {
      return rongBody(from, key, 'RC:TxtMsg', { content: text });
    },
    /** A press of a card button whose value is `value`, as a client reports it. */
    press(value: string, from = 'alice', key = randomUUID()): string {
      return rongBody(from, key, 'IMB:ButtonMsg', { businessID: BUTTON_PRESS, value });
    },
  },
} satisfies Record<CloudName, unknown>;

const BUTTON_PRESS = 'imbot_button';

function tencentBody(from: string, key: string, msgBody: unknown[]): string {
  return JSON.stringify({
    CallbackCommand: 'Bot.OnC2CMessage',
    From_Account: from,
    To_Account: '@RBT#conformance',
    MsgKey: key,
    MsgTime: Math.floor(Date.now() / 1000),
    MsgBody: msgBody,
  });
}

function rongBody(from: string, key: string, objectName: string, content: object): string {
  return JSON.stringify({
    type: 'message:private',
    timestamp: Date.now(),
    bot: { userId: 'conformance-bot' },
    data: {
      fromUserId: from,
      toUserId: 'conformance-bot',
      objectName,
      content: JSON.stringify(content),
      channelType: 'PERSON',
      msgUID: key,
    },
  });
}
