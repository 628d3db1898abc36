/// <reference lib="dom" />
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { TencentIm } from '@imbot/core';
import { type Emulator, startEmulator } from '@imbot/emulator';
import { type ImbotRouter, imbot } from '@imbot/express-middleware';
import express from 'express';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The console speaks TUIKit's AI-robot protocol with a bot streaming in it (`streamFormat:
 * 'tuikit'`): opening the robot's chat greets it and shows its welcome card, a tapped item is the
 * user's text, the answer streams as one growing message, Stop sends `src: 22` naming it, and a
 * failed answer shows as TUIKit's error.
 */

const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const available = existsSync(executablePath);
const ci = (process.env.CI ?? '').trim().toLowerCase();
const required = ci !== '' && ci !== '0' && ci !== 'false';

const app = { sdkAppId: 1400000555, secretKey: 'tuikit-console-key', admin: 'administrator' };
const TOKEN = 'tuikit-console-token';
const BOT = '@RBT#tuikit';

describe.skipIf(!available && !required)('the console with a TUIKit-format bot, in headless Chromium', () => {
  let emulator: Emulator;
  let server: Server;
  let router: ImbotRouter;
  let im: TencentIm;
  let browser: Browser;
  const handled: string[] = [];

  beforeAll(async () => {
    expect(
      available,
      `no Chromium at ${executablePath}: install Debian's chromium or set CHROMIUM_PATH`,
    ).toBe(true);
    emulator = await startEmulator({ tencent: app });
    const web = express();
    server = await new Promise<Server>((resolve) => {
      const s = web.listen(0, '127.0.0.1', () => resolve(s));
    });
    emulator.tencent.setCallback(
      `http://127.0.0.1:${(server.address() as AddressInfo).port}/im/webhook`,
      TOKEN,
    );
    im = new TencentIm({ ...app, baseUrl: emulator.url, callbackToken: TOKEN, streamFormat: 'tuikit' });
    router = imbot({
      platform: im.platform,
      bots: [{ userId: BOT }],
      welcome: { title: 'Ask me', items: ['Tell me a long story', 'Fail please'] },
      onMessage: async (message, reply) => {
        handled.push(message.text);
        const session = reply.stream({ minIntervalMs: 20 });
        for (let i = 0; i < 300 && !reply.signal.aborted; i++) {
          session.write(`word${i} `);
          await sleep(40);
          if (message.text === 'Fail please' && i === 3) throw new Error('the model fell over');
        }
        await session.end();
      },
      onError: () => undefined,
    });
    web.use('/im', router);
    await router.ready;
    browser = await chromium.launch({
      executablePath,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run'],
    });
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    await router?.close();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await im?.close();
    await emulator?.close();
  });

  it('greets, shows the welcome card, streams the tapped question, stops it by its key, and shows an error', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
    await page.goto(`${emulator.url}/`);
    // Opening the robot's chat greets it; its welcome card comes back, and no handler saw the greeting.
    const card = page.locator('#messages li.theirs [data-testid="branch-card"]');
    await card.waitFor({ timeout: 10_000 });
    expect(await card.getAttribute('data-subtype')).toBe('welcome_msg');
    expect(await card.locator('strong').textContent()).toBe('Ask me');
    expect(handled).toEqual([]);

    // A tapped item is the user's plain text; the answer streams as one TUIKit message.
    await card.locator('button', { hasText: 'Tell me a long story' }).click();
    const streaming = page.locator('#messages li.theirs[data-chatbot="2"][data-state="streaming"]');
    await streaming.waitFor({ timeout: 10_000 });
    expect(await page.locator('#messages li.mine').first().textContent()).toContain('Tell me a long story');
    await expect
      .poll(() => streaming.locator('.body').textContent(), { timeout: 10_000 })
      .toContain('word3 ');
    await page.locator('#stop').waitFor({ state: 'visible' });
    await page.click('#stop');
    const stopped = page.locator('#messages li.theirs[data-chatbot="2"][data-state="finished"]');
    await stopped.waitFor({ timeout: 3000 });
    expect(await stopped.locator('.body').textContent()).toMatch(/ \(stopped\)$/);
    // The stop was TUIKit's, naming the message: no stop word was sent, and it reached no handler.
    const stops = emulator.tencent
      .callbacks()
      .map((c) => (c.body.MsgBody as { MsgContent: { Data?: string } }[] | undefined)?.[0]?.MsgContent.Data)
      .filter((data) => data?.includes('"src":22'));
    expect(stops).toHaveLength(1);
    expect(handled).toEqual(['Tell me a long story']);

    // A handler that fails leaves TUIKit's error (src 23), never an open bubble.
    await card.locator('button', { hasText: 'Fail please' }).click();
    const failed = page.locator('#messages li.theirs[data-chatbot="23"]');
    await failed.waitFor({ timeout: 10_000 });
    expect(await failed.locator('.tuikit-error').textContent()).toMatch(/^⚠ word0 /);
    await page.locator('#stop').waitFor({ state: 'hidden' });
  }, 40_000);
});
