/**
 * What every entry into the pipeline (see `entries.ts`) does the same way on both clouds: a
 * middleware the app writes runs before any handler, and a card button press is checked against the
 * signature its platform gave the button, a forged one refused with the same error everywhere.
 */
import type { BotPlatform, Middleware } from '@imbot/core';
import { RongCloud, TencentIm } from '@imbot/core';
import { type Emulator, startEmulator } from '@imbot/emulator';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CloudName, clouds, RONG, TENCENT, TOKEN } from './callbacks.js';
import { type Entry, entries } from './entries.js';

/** Drops every message of the blocked user before it reaches a handler. */
const blockMallory: Middleware = (context, next) => (context.message.from === 'mallory' ? undefined : next());

describe.each(['tencent', 'rongcloud'] as const)('every entry on %s', (cloud: CloudName) => {
  let emulator: Emulator;
  let client: TencentIm | RongCloud;
  let platform: BotPlatform;
  let entry: Entry | undefined;
  const bot = clouds[cloud].bot;

  beforeAll(async () => {
    emulator = await startEmulator({ tencent: TENCENT, rongcloud: RONG });
    client =
      cloud === 'tencent'
        ? new TencentIm({ ...TENCENT, baseUrl: emulator.url, callbackToken: TOKEN })
        : new RongCloud({ ...RONG, baseUrl: emulator.url });
    platform = client.platform;
  });
  afterEach(async () => {
    await entry?.close();
    entry = undefined;
  });
  afterAll(async () => {
    await client.close();
    await emulator.close();
  });

  /** Posts a signed callback to the entry; the cloud's answer must be 200 whatever becomes of it. */
  async function deliver(body: string): Promise<void> {
    const response = await fetch(`${entry?.origin}/im/webhook?${clouds[cloud].query()}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(response.status).toBe(200);
    await response.arrayBuffer();
  }

  /** The value a card's button carries when the platform sends it to `userId`. */
  async function signedFor(userId: string, value: string): Promise<string> {
    const card = await platform.buttons?.sign(
      { botId: bot, userId },
      { type: 'card', buttons: [{ title: 'Lunch', type: 'message', value }] },
    );
    const button = card?.type === 'card' ? card.buttons[0] : undefined;
    if (button?.type !== 'message' || button.value === value)
      throw new Error('the platform signs no buttons');
    return button.value;
  }

  it.each(Object.keys(entries))(
    '%s: a middleware of the app drops a message before any handler',
    async (name) => {
      const start = entries[name] as (typeof entries)[string];
      entry = await start(platform, bot, { use: [blockMallory] });
      await deliver(clouds[cloud].body('let me in', undefined, 'mallory'));
      await deliver(clouds[cloud].body('sentinel'));
      await expect.poll(() => entry?.handled).toEqual(['sentinel']);
    },
  );

  it.each(Object.keys(entries))(
    '%s: refuses a made-up or moved button press with ButtonPressRefusedError, and takes a signed one',
    async (name) => {
      const refused: Error[] = [];
      const start = entries[name] as (typeof entries)[string];
      entry = await start(platform, bot, { onError: (error) => void refused.push(error) });
      await deliver(clouds[cloud].press('lunch'));
      await deliver(clouds[cloud].press(await signedFor('mallory', 'lunch')));
      await deliver(clouds[cloud].press(await signedFor('alice', 'lunch')));
      await expect.poll(() => entry?.handled).toEqual(['lunch']);
      expect(refused).toEqual([
        expect.objectContaining({
          name: 'ButtonPressRefusedError',
          code: 'ACTION_REFUSED',
          problem: 'unsigned',
        }),
        expect.objectContaining({
          name: 'ButtonPressRefusedError',
          code: 'ACTION_REFUSED',
          problem: 'bad-mac',
        }),
      ]);
    },
  );
});
