import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { startEmulator } from '@imbot/emulator';
import { describe, expect, it } from 'vitest';
import { offlineAnswer } from '../src/answer.js';
import { BOT_ID } from '../src/bot.js';

const dir = fileURLToPath(new URL('..', import.meta.url));
const USERS = Array.from({ length: 20 }, (_, i) => `user${String(i + 1).padStart(2, '0')}`);

describe('the demo under SIGTERM', () => {
  it('finishes every reply in progress, complete, and exits within the close timeout', async () => {
    const emulator = await startEmulator({
      tencent: { sdkAppId: 1400000000, secretKey: 'imbot-emulator-key', admin: 'administrator' },
    });
    const bot = spawn(
      process.execPath,
      ['--conditions=@imbot/source', '--import', 'tsx', 'src/main.ts', '--emulator', emulator.url],
      { cwd: dir, env: { ...process.env, OPENAI_BASE_URL: '', OPENAI_API_KEY: '' }, stdio: 'pipe' },
    );
    let output = '';
    bot.stdout.on('data', (chunk) => {
      output += chunk;
    });
    bot.stderr.on('data', (chunk) => {
      output += chunk;
    });
    try {
      await expect.poll(() => output, { timeout: 20_000 }).toContain('Press Ctrl-C to stop.');
      for (const user of USERS)
        await emulator.tencent.userSends({ from: user, to: BOT_ID, text: `hi ${user}` });
      const replies = () =>
        USERS.map((user) => emulator.tencent.conversation(user, BOT_ID).find((m) => m.from === BOT_ID));
      // Mid-reply: every answer has started and none has finished.
      await expect
        .poll(() => replies().every((m) => m?.state === 'streaming' && m.text.length > 0), {
          timeout: 10_000,
        })
        .toBe(true);
      const signalled = Date.now();
      bot.kill('SIGTERM');
      const [code] = await once(bot, 'exit');
      expect(Date.now() - signalled).toBeLessThan(10_000 + 2_000);
      expect(code).toBe(0);
      for (const [i, reply] of replies().entries()) {
        expect(reply).toMatchObject({
          state: 'finished',
          text: offlineAnswer([{ role: 'user', content: `hi ${USERS[i]}` }]),
        });
      }
    } finally {
      bot.kill('SIGKILL');
      await emulator.close();
    }
  }, 60_000);
});
