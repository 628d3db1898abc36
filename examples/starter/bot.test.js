import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { setTimeout } from 'node:timers/promises';
import { TencentIm } from '@imbot/core';
import { startEmulator } from '@imbot/emulator';
import express from 'express';
import { createBot } from './bot.js';

// A hung emulator or server fails the test within 30 s instead of holding the run forever.
test('the bot streams its answer to a user', { timeout: 30_000 }, async () => {
  const emulator = await startEmulator({
    tencent: { sdkAppId: 1400000000, secretKey: 'k', admin: 'administrator' },
  });
  const im = new TencentIm({
    sdkAppId: 1400000000,
    admin: 'administrator',
    secretKey: 'k',
    baseUrl: emulator.url,
    callbackToken: 't',
  });
  const bot = createBot(im.platform);
  const server = express().use('/im', bot).listen(0, '127.0.0.1');
  try {
    await bot.ready;
    emulator.tencent.setCallback(`http://127.0.0.1:${server.address().port}/im/webhook`, 't');
    const finished = new Promise((resolve) =>
      emulator.tencent.state.on('update', (message) => message.state === 'finished' && resolve(message)),
    );
    await emulator.tencent.userSends({ from: 'alice', to: '@RBT#starter', text: 'hello' });
    const answer = await finished;
    assert.equal(answer.from, '@RBT#starter');
    assert.equal(answer.text, 'You said: hello');
  } finally {
    await bot.close();
    server.close();
    await Promise.all([once(server, 'close'), im.close()]);
    await emulator.close();
  }
});

/** Starts `main.js` (through `sh -c` when `viaShell`, as `npm start` runs it) and waits for its console URL. */
async function startMain(viaShell) {
  const child = viaShell
    ? spawn('sh', ['-c', `"${process.execPath}" main.js`], {
        cwd: import.meta.dirname,
        env: { ...process.env, PORT: '0' },
      })
    : spawn(process.execPath, ['main.js'], { cwd: import.meta.dirname, env: { ...process.env, PORT: '0' } });
  let output = '';
  child.stdout.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr.on('data', (chunk) => {
    output += chunk;
  });
  for (let i = 0; i < 300 && !/Chat with it: (\S+)/.test(output); i++) await setTimeout(50);
  const url = /Chat with it: (\S+)/.exec(output)?.[1];
  assert.ok(url, `main.js printed no console URL:\n${output}`);
  return { child, url };
}

test('npm start stops on SIGTERM, letting answers finish, and exits', { timeout: 30_000 }, async () => {
  const { child } = await startMain(false);
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const [code] = await exited;
  assert.equal(code, 0);
});

test("npm start stops when the shell npm ran it under is gone (a SIGTERM sent to npm's PID), freeing its ports", {
  timeout: 30_000,
  skip: process.platform === 'win32',
}, async () => {
  const { child, url } = await startMain(true);
  child.kill('SIGTERM');
  let open = true;
  for (let i = 0; i < 200 && open; i++) {
    open = await fetch(url).then(
      () => true,
      () => false,
    );
    if (open) await setTimeout(50);
  }
  assert.equal(open, false, 'the bot still answers after its shell was killed');
});
