import { type Emulator, startEmulator } from '@imbot/emulator';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  InMemoryRateLimiter,
  type JournalEntry,
  type RateLimiter,
  type RateLimitPermit,
  RongCloud,
  type StreamJournal,
  type StreamSession,
  TencentIm,
} from '../src/index.js';

/**
 * A stream's turn holds one budget permit, and its call must be the one that spends it: every
 * streamed chunk costs exactly one acquisition of the limiter, through the journal, the sequence
 * numbering and the cloud's transport, over real HTTP. A layer that loses the turn's permit on the
 * way (one that does not hand it on, or, when the permit waited in an ambient slot for the first
 * `acquire()` made in the turn, an `await` between the session and the request layer) makes the
 * call take a second permit, and the counts below double.
 */

const app = { sdkAppId: 1400000777, secretKey: 'permit-secret', admin: 'administrator' };
const rongApp = { appKey: 'permit-key', appSecret: 'permit-secret' };
const ROBOT = '@RBT#counter';
const RONG_BOT = 'counter-bot';

/** A limiter that counts the permits it grants, by key (a client's limiter keys name its app). */
class CountingLimiter implements RateLimiter {
  readonly granted = new Map<string, number>();
  readonly #inner = new InMemoryRateLimiter({ limit: 1000 });

  async acquire(key: string, signal?: AbortSignal): Promise<RateLimitPermit> {
    this.#count(key);
    return this.#inner.acquire(key, signal);
  }

  tryAcquire(key: string): RateLimitPermit | undefined {
    const permit = this.#inner.tryAcquire(key);
    if (permit) this.#count(key);
    return permit;
  }

  callsPerSecond(): number {
    return this.#inner.callsPerSecond();
  }

  /** Permits granted for the API `api`, whatever app prefix the client gave its key. */
  of(api: string): number {
    let total = 0;
    for (const [key, n] of this.granted) if (key.endsWith(api)) total += n;
    return total;
  }

  #count(key: string): void {
    this.granted.set(key, (this.granted.get(key) ?? 0) + 1);
  }
}

/** A journal that only remembers, so that every stream call goes through `JournaledTransport`. */
class MemoryJournal implements StreamJournal {
  readonly open = new Map<string, JournalEntry>();
  record(id: string, entry: JournalEntry): void {
    this.open.set(id, entry);
  }
  forget(id: string): void {
    this.open.delete(id);
  }
  abandon(id: string): void {
    this.open.delete(id);
  }
  attach(): void {}
}

let emulator: Emulator;
let limiter: CountingLimiter;
let im: TencentIm;
let rong: RongCloud;

beforeAll(async () => {
  emulator = await startEmulator({ tencent: { ...app, robots: [ROBOT] }, rongcloud: rongApp });
});
afterAll(async () => {
  await emulator.close();
});
beforeEach(async () => {
  emulator.reset();
  emulator.tencent.createGroup({ groupId: 'crew', type: 'Public', members: [ROBOT, 'ann'] });
  limiter = new CountingLimiter();
  const journal = new MemoryJournal();
  im = new TencentIm({ ...app, baseUrl: emulator.url, rateLimit: limiter, journal });
  rong = new RongCloud({ ...rongApp, baseUrl: emulator.url, rateLimit: limiter, journal });
  return async () => {
    await im.close();
    await rong.close();
  };
});

const streams: [string, string, () => StreamSession][] = [
  [
    'Tencent robot send_stream_msg',
    'openim_robot_http_svc/send_stream_msg',
    () => im.openStream({ from: ROBOT, to: 'ann' }, { minIntervalMs: 0 }),
  ],
  [
    'Tencent stream_msg',
    'stream_msg/send_c2c_stream_msg',
    () => im.openStream({ from: ROBOT, to: 'ann', api: 'stream_msg' }, { minIntervalMs: 0 }),
  ],
  [
    'Tencent stream_msg in a group',
    'stream_msg/send_group_stream_msg',
    () => im.openStream({ from: ROBOT, groupId: 'crew' }, { minIntervalMs: 0 }),
  ],
  [
    'RongCloud publish_stream',
    '/v3/message/private/publish_stream.json',
    () => rong.openStream({ from: RONG_BOT, to: 'ann' }, { minIntervalMs: 0 }),
  ],
];

describe.each(streams)('on %s', (_, api, open) => {
  const calls = () =>
    (api.startsWith('/') ? emulator.rongcloud : emulator.tencent).calls().filter((c) => c.api === api);

  it('every streamed chunk takes exactly one permit of the budget', async () => {
    const session = open();
    const words = ['One', ' two', ' three', ' four'];
    for (const word of words) {
      const flushed = new Promise((resolve) => session.once('flush', resolve));
      session.write(word);
      await flushed;
    }
    const result = await session.end(' five.');
    expect(result).toMatchObject({ reason: 'completed', fallback: false, messages: 1 });
    // Four chunks as they were written, and the closing one.
    expect(calls()).toHaveLength(5);
    expect(limiter.of(api)).toBe(calls().length);
  });
});

const typings: [string, string, () => { start(): void; stop(): void } | undefined][] = [
  ['Tencent', 'openim/sendmsg', () => im.typing({ from: ROBOT, to: 'ann' })],
  ['RongCloud', '/statusmessage/private/publish.json', () => rong.typing({ from: RONG_BOT, to: 'ann' })],
];

describe.each(typings)('a typing signal on %s', (_, api, indicator) => {
  const calls = () =>
    (api.startsWith('/') ? emulator.rongcloud : emulator.tencent).calls().filter((c) => c.api === api);

  it('spends the permit taken for it, and no other', async () => {
    const typing = indicator();
    typing?.start();
    await expect.poll(() => calls().length).toBe(1);
    typing?.stop();
    expect(limiter.of(api)).toBe(1);
  });
});
