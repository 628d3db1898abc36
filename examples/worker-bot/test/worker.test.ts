import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Emulator, startEmulator } from '@imbot/emulator';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { freePort, type RuntimeBot, startRuntimeBot } from '../../../scripts/runtime-bot.js';
import { BOT_ID } from '../src/bot.js';

/**
 * The bot as a Cloudflare Worker on workerd (the `workerd` binary from the npm registry, the runtime
 * `wrangler dev` runs), the emulator in this Node process. The Worker is bundled as wrangler would
 * (esbuild, the built `@imbot/core`, Node built-ins left to `nodejs_compat`) and served with the
 * flags `wrangler.toml` sets. Outbound calls to 127.0.0.1 are allowed, as `wrangler dev` allows them.
 */

const app = { sdkAppId: 1400000000, secretKey: 'worker-test-key', admin: 'administrator' };
const TOKEN = 'worker-test-token';
const root = fileURLToPath(new URL('..', import.meta.url));
const workerd = createRequire(import.meta.url).resolve('workerd/bin/workerd');
const dir = mkdtempSync(join(tmpdir(), 'imbot-worker-bot-'));
let emulator: Emulator;
let bot: RuntimeBot;

/** workerd's config: the Worker with its vars, a socket on 127.0.0.1, and an outbound that reaches loopback. */
function config(port: number, vars: Record<string, string>): string {
  const bindings = Object.entries(vars)
    .map(([name, value]) => `(name = ${JSON.stringify(name)}, text = ${JSON.stringify(value)})`)
    .join(', ');
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .bot),
    (name = "net", network = (allow = ["public", "local", "private"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);
const bot :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "worker.js")],
  compatibilityDate = "2025-09-01",
  compatibilityFlags = ["nodejs_compat"],
  globalOutbound = "net",
  bindings = [${bindings}],
);
`;
}

beforeAll(async () => {
  emulator = await startEmulator({ tencent: app });
  await build({
    absWorkingDir: root,
    entryPoints: ['src/worker.ts'],
    outfile: join(dir, 'worker.js'),
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    conditions: ['workerd', 'worker', 'import'],
    mainFields: ['module', 'main'],
    external: ['node:*'],
    logLevel: 'error',
  });
  const port = await freePort();
  writeFileSync(
    join(dir, 'config.capnp'),
    config(port, {
      IMBOT_BASE_URL: emulator.url,
      IMBOT_SDK_APP_ID: String(app.sdkAppId),
      IMBOT_SECRET_KEY: app.secretKey,
      IMBOT_CALLBACK_TOKEN: TOKEN,
    }),
  );
  bot = await startRuntimeBot(workerd, ['serve', 'config.capnp'], {
    cwd: dir,
    env: {},
    url: `http://127.0.0.1:${port}/im/webhook`,
  });
  emulator.tencent.setCallback(bot.url, TOKEN);
}, 60_000);
afterAll(async () => {
  await bot?.stop();
  await emulator?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the bot as a Cloudflare Worker on workerd', () => {
  it('ensures its robot, then answers a signed callback first and streams the reply under ctx.waitUntil', async () => {
    onTestFailed(() => console.log(`what the runtime printed:\n${bot.output()}`));
    await expect.poll(async () => (await fetch(bot.url)).status, { timeout: 10_000 }).toBe(200);
    expect(emulator.tencent.calls().map((c) => c.api)).toContain('openim_robot_http_svc/create_robot');
    await emulator.tencent.userSends({ from: 'alice', to: BOT_ID, text: 'hello' });
    await expect
      .poll(() => emulator.tencent.conversation('alice', BOT_ID).find((m) => m.from === BOT_ID), {
        timeout: 10_000,
      })
      .toMatchObject({
        state: 'finished',
        text: 'You said: hello. This answer streams from a Cloudflare Worker.',
      });
  }, 30_000);
});
