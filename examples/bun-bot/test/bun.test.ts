import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { type Emulator, startEmulator } from '@imbot/emulator';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { type RuntimeBot, startRuntimeBot } from '../../../scripts/runtime-bot.js';
import { BOT_ID } from '../src/bot.js';

/**
 * The bot runs on Bun (the `bun` binary from the npm registry), the emulator in this Node process:
 * the client ensures its robot and streams over Bun's fetch, `createFetchHandler` on `Bun.serve`
 * answers the signed callback.
 */

const app = { sdkAppId: 1400000000, secretKey: 'bun-test-key', admin: 'administrator' };
const TOKEN = 'bun-test-token';
const bun = createRequire(import.meta.url).resolve('bun/bin/bun.exe');
let emulator: Emulator;
let bot: RuntimeBot;

beforeAll(async () => {
  emulator = await startEmulator({ tencent: app });
  bot = await startRuntimeBot(bun, ['src/server.ts'], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: {
      PORT: '0',
      IMBOT_BASE_URL: emulator.url,
      IMBOT_SDK_APP_ID: String(app.sdkAppId),
      IMBOT_SECRET_KEY: app.secretKey,
      IMBOT_CALLBACK_TOKEN: TOKEN,
    },
    listening: /listens on (http:\/\/\S+)/,
  });
  emulator.tencent.setCallback(bot.url, TOKEN);
}, 60_000);
afterAll(async () => {
  await bot?.stop();
  await emulator?.close();
});

describe('the bot on Bun', () => {
  it('ensures its robot, then answers a signed callback with a streamed reply, finished and exact', async () => {
    onTestFailed(() => console.log(`what the runtime printed:\n${bot.output()}`));
    await expect.poll(async () => (await fetch(bot.url)).status, { timeout: 10_000 }).toBe(200);
    expect(emulator.tencent.calls().map((c) => c.api)).toContain('openim_robot_http_svc/create_robot');
    await emulator.tencent.userSends({ from: 'alice', to: BOT_ID, text: 'hello' });
    await expect
      .poll(() => emulator.tencent.conversation('alice', BOT_ID).find((m) => m.from === BOT_ID), {
        timeout: 10_000,
      })
      .toMatchObject({ state: 'finished', text: 'You said: hello. This answer streams from Bun.' });
    expect(bot.output()).toMatch(/^bun 1\.4\.5: the bot sends over fetch /);
  }, 30_000);
});
