import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RongCloud, signRongCloud } from '@imbot/core';
import { type Emulator, startEmulator } from '@imbot/emulator';
import express from 'express';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ImbotRouter, imbot } from '../src/index.js';

const app = { appKey: 'mw-rong-key', appSecret: 'mw-rong-secret' };
const BOT = 'bot-helper';
let emulator: Emulator;
let server: Server;
let url: string;
let rong: RongCloud;
let router: ImbotRouter;
let errors: Error[];
let handled: string[];

beforeEach(async () => {
  emulator = await startEmulator({ rongcloud: app });
  const web = express();
  server = await new Promise<Server>((resolve) => {
    const s = web.listen(0, '127.0.0.1', () => resolve(s));
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // The same app as on Tencent; only the platform differs.
  rong = new RongCloud({
    ...app,
    baseUrl: emulator.url,
    backupBaseUrl: emulator.rongcloud.backupUrl,
    callbackUrl: `${url}/im/webhook`,
  });
  errors = [];
  handled = [];
  router = imbot({
    platform: rong.platform,
    bots: [{ userId: BOT, name: 'Helper', description: 'Answers in a stream' }],
    onMessage: async (message, reply) => {
      handled.push(message.text);
      const session = reply.stream({ minIntervalMs: 10 });
      for (const word of `On RongCloud you said: ${message.text}. Here is a streamed answer.`.split(
        /(?<= )/,
      )) {
        session.write(word);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await session.end();
    },
    onError: (error) => void errors.push(error),
  });
  web.use('/im', router);
});
afterEach(async () => {
  await router.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await rong.close();
  await emulator.close();
});

describe('the Express middleware on RongCloud', () => {
  it('ensures the bot with its webhook, and a user message gets a streamed reply, finished and exact', async () => {
    expect(await router.ready).toMatchObject({ created: [BOT] });
    expect(emulator.rongcloud.bots()).toEqual([
      { userId: BOT, name: 'Helper', avatarUrl: '', description: 'Answers in a stream', valid: true },
    ]);
    const sent = await emulator.rongcloud.userSends({ from: 'alice', to: BOT, text: 'hello' });
    expect(sent.callback).toMatchObject({ ok: true, status: 200 });
    await expect
      .poll(() => emulator.rongcloud.conversation('alice', BOT).at(-1), { timeout: 5000 })
      .toMatchObject({
        from: BOT,
        kind: 'stream',
        state: 'finished',
        text: 'On RongCloud you said: hello. Here is a streamed answer.',
      });
    expect(errors).toEqual([]);
  });

  describe('refuses bad webhooks before the handler', () => {
    const now = () => Date.now();
    const message = (text: string, msgUID: string) =>
      JSON.stringify({
        type: 'message:private',
        timestamp: Date.now(),
        bot: { userId: BOT },
        data: {
          fromUserId: 'mallory',
          toUserId: BOT,
          objectName: 'RC:TxtMsg',
          content: JSON.stringify({ content: text }),
          msgUID,
        },
      });
    const body = message('hi', 'U1');
    const post = async (query: Record<string, string>, text = body) =>
      (await fetch(`${url}/im/webhook?${new URLSearchParams(query)}`, { method: 'POST', body: text })).status;
    const signed = (nonce: string, timestamp = now()) => ({
      appKey: app.appKey,
      nonce,
      timestamp: String(timestamp),
      signature: signRongCloud({ appSecret: app.appSecret, nonce, timestamp }),
    });

    it('a forged signature (401)', async () => {
      expect(
        await post({
          ...signed('n1'),
          signature: signRongCloud({ appSecret: 'guessed', nonce: 'n1', timestamp: now() }),
        }),
      ).toBe(401);
      expect(errors.map((e) => (e as { problem?: string }).problem)).toEqual(['bad-signature']);
    });

    it('a stale timestamp (401)', async () => {
      expect(await post(signed('n2', now() - 6 * 60_000))).toBe(401);
      expect(errors.map((e) => (e as { problem?: string }).problem)).toEqual(['stale']);
    });

    it('a replayed nonce (409)', async () => {
      const query = signed('n3');
      expect(await post(query)).toBe(200);
      expect(await post(query)).toBe(409);
      expect(errors.map((e) => (e as { problem?: string }).problem)).toEqual(['replayed']);
    });

    it('a malformed body (400)', async () => {
      expect(await post(signed('n4'), '{"type":')).toBe(400);
      expect(errors.map((e) => (e as { problem?: string }).problem)).toEqual(['malformed']);
    });

    it('and none of them reached the handler', async () => {
      expect(await post({ ...signed('n5'), signature: 'f'.repeat(40) })).toBe(401);
      expect(await post(signed('n6', now() + 6 * 60_000))).toBe(401);
      // A signed sentinel from the same user after them: once it is handled, the refused ones
      // would have been handled before it (one message at a time per user, in order).
      expect(await post(signed('n7'), message('sentinel', 'U2'))).toBe(200);
      await expect.poll(() => handled).toEqual(['sentinel']);
    });
  });
});
