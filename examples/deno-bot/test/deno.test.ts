import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Emulator, startEmulator } from '@imbot/emulator';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { type RuntimeBot, startRuntimeBot } from '../../../scripts/runtime-bot.js';
import { BOT_ID } from '../src/bot.js';

/**
 * The bot runs on Deno (the `deno` binary from the npm registry), the emulator in this Node process:
 * the client ensures its robot and streams over Deno's fetch, `createFetchHandler` on `Deno.serve`
 * answers the signed callback.
 */

const app = { sdkAppId: 1400000000, secretKey: 'deno-test-key', admin: 'administrator' };
const TOKEN = 'deno-test-token';
// The binary the package's install script put beside its bin.cjs (which would only run it).
const deno = join(dirname(createRequire(import.meta.url).resolve('deno/bin.cjs')), 'deno');
let emulator: Emulator;
let bot: RuntimeBot;

beforeAll(async () => {
  emulator = await startEmulator({ tencent: app });
  // Sloppy imports: the sources import './bot.js' as TypeScript for Node does; Deno finds bot.ts.
  bot = await startRuntimeBot(
    deno,
    ['run', '--allow-net', '--allow-env', '--allow-read', '--unstable-sloppy-imports', 'src/server.ts'],
    {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: {
        PORT: '0',
        IMBOT_BASE_URL: emulator.url,
        IMBOT_SDK_APP_ID: String(app.sdkAppId),
        IMBOT_SECRET_KEY: app.secretKey,
        IMBOT_CALLBACK_TOKEN: TOKEN,
      },
      listening: /listens on (http:\/\/\S+)/,
    },
  );
  emulator.tencent.setCallback(bot.url, TOKEN);
}, 60_000);
afterAll(async () => {
  await bot?.stop();
  await emulator?.close();
});

describe('the bot on Deno', () => {
  it('ensures its robot, then answers a signed callback with a streamed reply, finished and exact', async () => {
    onTestFailed(() => console.log(`what the runtime printed:\n${bot.output()}`));
    await expect.poll(async () => (await fetch(bot.url)).status, { timeout: 10_000 }).toBe(200);
    expect(emulator.tencent.calls().map((c) => c.api)).toContain('openim_robot_http_svc/create_robot');
    await emulator.tencent.userSends({ from: 'alice', to: BOT_ID, text: 'hello' });
    await expect
      .poll(() => emulator.tencent.conversation('alice', BOT_ID).find((m) => m.from === BOT_ID), {
        timeout: 10_000,
      })
      .toMatchObject({ state: 'finished', text: 'You said: hello. This answer streams from Deno.' });
    expect(bot.output()).toMatch(/^deno 2\.9\.6: the bot sends over fetch /);
  }, 30_000);
});
