import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
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
