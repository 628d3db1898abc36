import { type Emulator, startEmulator } from '@imbot/emulator';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RongCloud, StreamSourceError, TencentIm } from '../src/index.js';
import { play } from './play.js';

const tencentApp = { sdkAppId: 1400000000, secretKey: 'guarantees-secret-key', admin: 'administrator' };
const rongApp = { appKey: 'guarantees-key', appSecret: 'guarantees-secret' };
const BOT = '@RBT#writer';
const RONG_BOT = 'writer-bot';
const RETRIES = 4;

let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator({ tencent: { ...tencentApp, robots: [BOT] }, rongcloud: rongApp });
});
afterAll(async () => {
  await emulator.close();
});
beforeEach(() => {
  emulator.reset();
});

const tencent = () =>
  new TencentIm({
    ...tencentApp,
    baseUrl: emulator.url,
    retry: { retries: RETRIES, minDelayMs: 1, maxDelayMs: 10 },
  });
const rong = () =>
  new RongCloud({
    ...rongApp,
    baseUrl: emulator.url,
    backupBaseUrl: emulator.rongcloud.backupUrl,
    retry: { retries: RETRIES, minDelayMs: 1, maxDelayMs: 10 },
  });

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** Tencent's two stream formats: the stream API, and TUIKit's AI-robot message grown by rewrites. */
const formats = ['stream', 'tuikit'] as const;

describe.each(formats)('a source that fails (%s format)', (format) => {
  it('closes the message with what was written, finishes with error, and rejects pipeFrom', async () => {
    const im = tencent();
    const session = im.openStream(
      { from: BOT, to: 'alice' },
      { onSourceError: ' (answer interrupted)', format },
    );
    const unreachable = new Error('connect ECONNREFUSED 127.0.0.1:11434');
    async function* model() {
      yield 'The answer starts ';
      yield 'well';
      throw unreachable;
    }
    const error = await session.pipeFrom(model()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StreamSourceError);
    expect(error).toMatchObject({ code: 'STREAM_SOURCE', cause: unreachable });
    expect(await session.done).toMatchObject({ reason: 'error', error });
    const shown = emulator.tencent.conversation('alice', BOT).filter((m) => m.from === BOT);
    expect(shown).toMatchObject([{ text: 'The answer starts well (answer interrupted)', state: 'finished' }]);
    await im.close();
  });
});

describe('RongCloud never loses the answer', () => {
  it('sends the fallback again when both the first stream call and the fallback hit a 502', async () => {
    const client = rong();
    emulator.faults.failNext('/v3/message/private/publish_stream.json', 1, 'http-502');
    emulator.faults.failNext('/message/private/publish.json', 1, 'http-502');
    const session = client.openStream({ from: RONG_BOT, to: 'bob' });
    const result = await session.end('The whole answer, which must arrive.');
    expect(result).toMatchObject({ reason: 'error', fallback: true, undelivered: '' });
    const shown = emulator.rongcloud.conversation('bob', RONG_BOT).filter((m) => m.from === RONG_BOT);
    expect(shown.map((m) => m.text)).toContain('The whole answer, which must arrive.');
    await client.close();
  });

  it('sends it again after a reset whose outcome is unknown: at least once', async () => {
    const client = rong();
    emulator.faults.failNext('/v3/message/private/publish_stream.json', 1, 'reset-before');
    emulator.faults.failNext('/message/private/publish.json', 1, 'reset-after');
    const result = await client.openStream({ from: RONG_BOT, to: 'carol' }).end('Said at least once.');
    expect(result.undelivered).toBe('');
    const shown = emulator.rongcloud.conversation('carol', RONG_BOT).filter((m) => m.from === RONG_BOT);
    expect(shown.filter((m) => m.text === 'Said at least once.').length).toBeGreaterThanOrEqual(1);
    await client.close();
  });
});

describe.each(formats)('a large producer (%s format)', (format) => {
  it('is held within the high-water mark and arrives exact over several messages, no grapheme split', async () => {
    const im = tencent();
    const session = im.openStream(
      { from: BOT, to: 'dave' },
      { maxChunkBytes: 12 * 1024, minIntervalMs: 0, format },
    );
    const unit = 'Streaming 流式输出 👩‍👩‍👧‍👦 e\u0301 🇫🇷. ';
    const piece = unit.repeat(40);
    let produced = 0;
    let delivered = 0;
    let lead = 0;
    session.on('flush', (f) => {
      delivered += f.chunk.length;
    });
    const pieces = Math.ceil(1_000_000 / piece.length);
    async function* producer() {
      for (let i = 0; i < pieces; i++) {
        lead = Math.max(lead, produced - delivered);
        produced += piece.length;
        yield piece;
      }
    }
    const result = await session.pipeFrom(producer());
    const text = piece.repeat(pieces);
    expect(result).toMatchObject({ reason: 'completed', fallback: false, undelivered: '' });
    const shown = emulator.tencent.conversation('dave', BOT).filter((m) => m.from === BOT);
    expect(shown.map((m) => m.text).join('')).toBe(text);
    expect(shown.length).toBeGreaterThan(50);
    // A grapheme boundary, judged on a little text around it (segmenting a megabyte is not linear).
    const isBoundary = (i: number) =>
      i === text.length || segmenter.segment(text.slice(i - 60, i + 60)).containing(60)?.index === 60;
    let at = 0;
    for (const m of shown) {
      expect(m.state).toBe('finished');
      expect(Buffer.byteLength(m.text)).toBeLessThanOrEqual(12 * 1024);
      at += m.text.length;
      expect(isBoundary(at)).toBe(true);
    }
    // 64 KiB of pending UTF-8 is at most 64 Ki UTF-16 units; one piece more may be in hand.
    expect(lead).toBeLessThanOrEqual(64 * 1024 + piece.length);
    await im.close();
  }, 60_000);
});

/** Whether `inner` can be read out of `outer` in order, skipping characters: at least once, in order. */
function isSubsequence(inner: string, outer: string): boolean {
  let i = 0;
  for (let j = 0; j < outer.length && i < inner.length; j++) if (outer[j] === inner[i]) i++;
  return i === inner.length;
}

describe('property: ambiguous faults on both clouds', () => {
  const piece = fc.oneof(
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 10 }),
    fc.constantFrom('👍🏽', '字', 'e\u0301', '\n', 'token '),
  );

  it('one finish, nothing undelivered, the text shown at least once in order, every message closed', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(piece, fc.integer({ min: 0, max: 6 })), { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.constantFrom('robot' as const, 'stream_msg' as const, 'tuikit' as const, 'rongcloud' as const),
        async (writes, seed, cloud) => {
          const user = `amb${run++}`;
          emulator.faults.configure({ seed, resetAfterRate: 0.1, resetBeforeRate: 0.05, http502Rate: 0.05 });
          const client = cloud === 'rongcloud' ? rong() : tencent();
          const session =
            client instanceof RongCloud
              ? client.openStream({ from: RONG_BOT, to: user }, { minIntervalMs: 0, maxChunkBytes: 64 })
              : client.openStream(
                  { from: BOT, to: user, ...(cloud === 'stream_msg' ? { api: 'stream_msg' as const } : {}) },
                  { minIntervalMs: 0, maxChunkBytes: 64, format: cloud === 'tuikit' ? 'tuikit' : 'stream' },
                );
          const { result, finishes, written } = await play(session, writes);
          emulator.faults.configure({});
          await client.close();
          const messages =
            cloud === 'rongcloud'
              ? emulator.rongcloud.conversation(user, RONG_BOT).filter((m) => m.from === RONG_BOT)
              : emulator.tencent.conversation(user, BOT).filter((m) => m.from === BOT);
          expect(finishes).toHaveLength(1);
          if (result.undelivered !== '') {
            // Only when the retries ran out: faults strike 20 % of calls at random, so now and then
            // (about once in 3,000 calls) one call meets five in a row. The session then ends with
            // the error and names what it could not deliver; it makes no call after giving up.
            const calls = cloud === 'rongcloud' ? emulator.rongcloud.calls() : emulator.tencent.calls();
            expect(result.reason).toBe('error');
            expect(calls.slice(-RETRIES - 1).every((call) => call.fault !== undefined)).toBe(true);
          }
          expect(isSubsequence(written, messages.map((m) => m.text).join(''))).toBe(true);
          // Tencent's history names the message a lost first call opened: none is left open. On
          // RongCloud one is left open only when its first call was applied and never answered: the
          // client cannot name it, so it holds that one chunk and the cloud ends it.
          const open = messages.filter((m) => m.state !== 'finished');
          if (cloud !== 'rongcloud') expect(open).toEqual([]);
          for (const m of open) expect(m.calls).toBe(1);
        },
      ),
      { numRuns: 40 },
    );
  }, 60_000);
});
