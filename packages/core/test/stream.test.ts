import { type Emulator, startEmulator } from '@imbot/emulator';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TencentIm, type TencentImOptions } from '../src/index.js';
import { play } from './play.js';

const SDK_APP_ID = 1400000000;
const SECRET_KEY = 'stream-test-secret-key';
const ADMIN = 'administrator';
const BOT = '@RBT#writer';

let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator({
    tencent: { sdkAppId: SDK_APP_ID, secretKey: SECRET_KEY, admin: ADMIN, robots: [BOT] },
  });
});
afterAll(async () => {
  await emulator.close();
});
beforeEach(() => {
  emulator.reset();
});

function client(options: Partial<TencentImOptions> = {}): TencentIm {
  return new TencentIm({
    sdkAppId: SDK_APP_ID,
    admin: ADMIN,
    secretKey: SECRET_KEY,
    baseUrl: emulator.url,
    retry: { retries: 6, minDelayMs: 1, maxDelayMs: 10 },
    ...options,
  });
}

/** What the user sees from the robot: the text of its messages, in order. */
const shown = (user: string) => emulator.tencent.conversation(user, BOT).filter((m) => m.from === BOT);

describe('robot streaming against the emulator', () => {
  it('shows one message that grows and ends finished and exact', async () => {
    const im = client();
    const session = im.openStream({ from: BOT, to: 'alice' }, { minIntervalMs: 20 });
    const states: string[] = [];
    session.on('flush', () => states.push(shown('alice')[0]?.state ?? 'none'));
    const words = 'The quick brown fox jumps over the lazy dog. 敏捷的棕色狐狸 👩‍👩‍👧‍👦 🇫🇷'.split(/(?<= )/);
    for (const [i, word] of words.entries()) {
      // The first three words each wait for their call, so the message grows over several calls
      // however slow the machine; the rest come 5 ms apart and join whatever call comes next.
      const flushed = new Promise((resolve) => session.once('flush', resolve));
      session.write(word);
      if (i < 3) await flushed;
      else await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const result = await session.end();
    expect(result).toMatchObject({ reason: 'completed', messages: 1, fallback: false, undelivered: '' });
    expect(shown('alice')).toMatchObject([{ text: words.join(''), state: 'finished', kind: 'stream' }]);
    expect(shown('alice')[0]?.calls).toBe(result.calls);
    expect(result.calls).toBeGreaterThan(2);
    expect(states.slice(0, -1).every((s) => s === 'streaming')).toBe(true);
    await im.close();
  });

  it('continues a text longer than 12 KB in new messages, each within the limit', async () => {
    const im = client();
    const session = im.openStream({ from: BOT, to: 'bob' });
    const paragraph = 'Streaming keeps the reader busy while the model thinks. 流式输出让读者不必等待。\n';
    const text = paragraph.repeat(400); // ~48 KB
    for (let i = 0; i < text.length; i += 997) session.write(text.slice(i, i + 997));
    const result = await session.end();
    const messages = shown('bob');
    expect(messages.map((m) => m.text).join('')).toBe(text);
    expect(messages.length).toBeGreaterThanOrEqual(4);
    expect(result.messages).toBe(messages.length);
    for (const m of messages) {
      expect(m.state).toBe('finished');
      expect(Buffer.byteLength(m.text)).toBeLessThanOrEqual(12 * 1024);
      expect(m.text.endsWith('\n')).toBe(true);
    }
    await im.close();
  });

  it('streams with stream_msg to a user and into a group', async () => {
    const im = client();
    const c2c = im.openStream({ from: BOT, to: 'carol', api: 'stream_msg' }, { minIntervalMs: 0 });
    c2c.write('first, ');
    await new Promise((resolve) => setTimeout(resolve, 30));
    await c2c.end('then the rest');
    expect(shown('carol')).toMatchObject([
      { text: 'first, then the rest', state: 'finished', kind: 'stream' },
    ]);
    emulator.tencent.createGroup({ groupId: 'team', members: [BOT] });
    const group = im.openStream({ from: BOT, groupId: 'team' });
    await group.end('hello, team');
    expect(emulator.tencent.groupConversation('team')).toMatchObject([
      { text: 'hello, team', state: 'finished', from: BOT, kind: 'stream' },
    ]);
    await im.close();
  });

  it('client.close() finishes every open session with its closing call', async () => {
    const im = client();
    const sessions = ['u1', 'u2', 'u3'].map((to) => im.openStream({ from: BOT, to }));
    for (const [i, s] of sessions.entries()) s.write(`unfinished answer ${i}`);
    await im.close();
    for (const [i, to] of ['u1', 'u2', 'u3'].entries()) {
      expect(shown(to)).toMatchObject([{ text: `unfinished answer ${i}`, state: 'finished' }]);
      expect((await sessions[i]?.done)?.reason).toBe('aborted');
    }
  });

  it('shares the app budget: 300 sessions never draw a frequency-limit rejection', async () => {
    const im = client();
    const sessions = Array.from({ length: 300 }, (_, i) =>
      im.openStream({ from: BOT, to: `user${i}` }, { minIntervalMs: 0 }),
    );
    for (let round = 0; round < 3; round++) {
      for (const s of sessions) s.write(`round ${round}. `);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await Promise.all(sessions.map((s) => s.end()));
    const rate = emulator.tencent.rate()['openim_robot_http_svc/send_stream_msg'];
    expect(rate?.rejected).toBe(0);
    expect(rate?.busiestWindow).toBeLessThanOrEqual(200);
    expect(shown('user299')).toMatchObject([{ text: 'round 0. round 1. round 2. ', state: 'finished' }]);
    await im.close();
  }, 20_000);
});

describe('property: what the user sees is exactly what was written', () => {
  const piece = fc.oneof(
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }),
    fc.constantFrom('👍🏽', '字', 'e\u0301', '\n', ' ', 'token '),
  );

  it('for any writes, any timing, with 10002, 502, resets before apply and latency injected', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(piece, fc.integer({ min: 0, max: 8 })), { minLength: 1, maxLength: 25 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.constantFrom('robot' as const, 'stream_msg' as const),
        async (writes, seed, api) => {
          const user = `prop${run++}`;
          emulator.faults.configure({
            seed,
            errorRate: 0.1,
            http502Rate: 0.05,
            resetBeforeRate: 0.05,
            latencyMs: 1,
            jitterMs: 4,
          });
          const im = client();
          const session = im.openStream(
            { from: BOT, to: user, api },
            { minIntervalMs: 0, maxChunkBytes: 64 },
          );
          const { result, finishes, written } = await play(session, writes);
          emulator.faults.configure({});
          await im.close();
          expect(result.text).toBe(written);
          expect(result.undelivered).toBe('');
          const messages = shown(user);
          expect(messages.map((m) => m.text).join('')).toBe(written);
          expect(messages.every((m) => m.state === 'finished')).toBe(true);
          expect(finishes).toHaveLength(1);
        },
      ),
      { numRuns: 40 },
    );
    // The faults did strike, and calls whose outcome they left unknown were settled by reading back.
    const calls = emulator.tencent.calls();
    const faults = calls.filter((c) => c.fault !== undefined);
    const readBacks = calls.filter((c) => c.api === 'openim/admin_getroammsg').length;
    console.log(`faults ${faults.length} of ${calls.length} calls; read-backs ${readBacks}`);
    expect(new Set(faults.map((c) => c.fault))).toEqual(new Set(['error 10002', 'http-502', 'reset-before']));
    expect(readBacks).toBeGreaterThan(0);
  }, 60_000);
});
