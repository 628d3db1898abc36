import { type Emulator, startEmulator } from '@imbot/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFetchHandler, RongCloud, signRongCloud, TencentIm } from '../src/index.js';
import { tencentCallbackSign } from '../src/tencent/index.js';

/**
 * Secrets given as functions, sync or async, are asked for on every use: the calls sign with the
 * value in force, the webhooks verify with it, cards are signed with a key from it, and no value a
 * function returned appears in an error.
 */

const TENCENT = { sdkAppId: 1400000031, secretKey: 'rotating-key', admin: 'administrator' };
const RONG = { appKey: 'rotating-app', appSecret: 'rotating-secret' };
const TOKEN = 'rotating-token';
const BOT = '@RBT#rotating';

let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator({ tencent: { ...TENCENT, robots: [BOT] }, rongcloud: RONG });
});
afterAll(async () => {
  await emulator.close();
});

describe('Tencent: secretKey and callbackToken as functions', () => {
  it('signs each call with the key in force, and no key it was given appears in an error', async () => {
    let key = TENCENT.secretKey;
    let asked = 0;
    const im = new TencentIm({
      ...TENCENT,
      secretKey: async () => {
        asked++;
        return key;
      },
      baseUrl: emulator.url,
      retry: { retries: 0 },
    });
    try {
      expect(await im.getAllRobots()).toEqual([BOT]);
      await im.getAllRobots();
      expect(asked).toBe(2);
      key = 'a-stale-key-nobody-should-see';
      const error = (await im.getAllRobots().catch((e: Error) => e)) as Error;
      expect(error).toMatchObject({ name: 'TencentApiError' });
      expect(JSON.stringify({ message: error.message, cause: String(error.cause) })).not.toContain(key);
      key = TENCENT.secretKey;
      expect(await im.getAllRobots()).toEqual([BOT]);
      // Cards are signed with a key derived from the secret in force.
      await im.platform.sendMessage(
        { botId: BOT, userId: 'alice' },
        { type: 'card', buttons: [{ title: 'Yes', type: 'message', value: 'yes' }] },
      );
      const card = emulator.tencent.conversation('alice', BOT).at(-1)?.content;
      expect(card?.type === 'card' && card.buttons[0]?.type === 'message' && card.buttons[0].value).toMatch(
        /^imb1\./,
      );
    } finally {
      await im.close();
    }
  });

  it('verifies each callback with the token in force', async () => {
    let token = TOKEN;
    const im = new TencentIm({ ...TENCENT, baseUrl: emulator.url, callbackToken: () => token });
    const handled: string[] = [];
    const handler = createFetchHandler({
      platform: im.platform,
      bots: [{ userId: BOT }],
      onMessage: (message) => void handled.push(message.text),
      onError: () => undefined,
    });
    const post = (signedWith: string, text: string) => {
      const time = Math.floor(Date.now() / 1000);
      const query = `SdkAppid=${TENCENT.sdkAppId}&CallbackCommand=Bot.OnC2CMessage&contenttype=json&RequestTime=${time}&Sign=${tencentCallbackSign(signedWith, time)}`;
      const body = JSON.stringify({
        CallbackCommand: 'Bot.OnC2CMessage',
        From_Account: 'alice',
        To_Account: BOT,
        MsgKey: `${text}_1_${time}`,
        MsgTime: time,
        MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: text } }],
      });
      return handler(new Request(`http://127.0.0.1/webhook?${query}`, { method: 'POST', body }));
    };
    try {
      await handler.ready;
      expect((await post(TOKEN, 'first')).status).toBe(200);
      token = 'a-new-token';
      expect((await post(TOKEN, 'old token')).status).toBe(401);
      expect((await post('a-new-token', 'second')).status).toBe(200);
      await expect.poll(() => handled).toEqual(['first', 'second']);
    } finally {
      await handler.close();
      await im.close();
    }
  });
});

describe('RongCloud: appSecret as a function', () => {
  it('signs each call and verifies each callback with the App Secret in force', async () => {
    let secret = RONG.appSecret;
    const rong = new RongCloud({
      ...RONG,
      appSecret: () => secret,
      baseUrl: emulator.url,
      retry: { retries: 0 },
    });
    try {
      await rong.platform.createBot({ userId: 'rotating-bot', name: 'Rotating' });
      expect((await rong.getBots(['rotating-bot']))[0]).toMatchObject({ userId: 'rotating-bot' });
      secret = 'not-the-app-secret';
      const error = (await rong.getBots(['rotating-bot']).catch((e: Error) => e)) as Error;
      expect(error).toMatchObject({ name: 'RongCloudApiError' });
      expect(String(error.message)).not.toContain(secret);
      const nonce = 'n1';
      const timestamp = String(Date.now());
      const query = new URLSearchParams({
        appKey: RONG.appKey,
        nonce,
        timestamp,
        signature: signRongCloud({ appSecret: secret, nonce, timestamp }),
      });
      await expect(
        Promise.resolve(rong.platform.verifyWebhook({ query, headers: {} })),
      ).resolves.toBeDefined();
      secret = RONG.appSecret;
      await expect(
        Promise.resolve().then(() => rong.platform.verifyWebhook({ query, headers: {} })),
      ).rejects.toMatchObject({
        code: 'WEBHOOK_VERIFICATION',
      });
    } finally {
      await rong.close();
    }
  });
});
