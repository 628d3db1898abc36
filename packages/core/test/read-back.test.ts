import { type Emulator, startEmulator } from '@imbot/emulator';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RongCloud, type StreamSession, type StreamTarget, TencentIm } from '../src/index.js';

/**
 * The answer to a streaming call is lost (the connection drops after the cloud applied it, or
 * before): the session reads back what the cloud holds (the conversation's history on Tencent, the
 * stream's content on RongCloud) and the user ends up with exactly one finished message with its text
 * once, never a dangling one beside a second or a chunk shown twice.
 */

const app = { sdkAppId: 1400000321, secretKey: 'read-back-secret', admin: 'administrator' };
const rongApp = { appKey: 'read-back-key', appSecret: 'read-back-secret' };
const ROBOT = '@RBT#reader';
const RONG_BOT = 'reader-bot';
const retry = { retries: 2, minDelayMs: 1, maxDelayMs: 5 };

let emulator: Emulator;
let im: TencentIm;
let rong: RongCloud;

beforeAll(async () => {
  emulator = await startEmulator({ tencent: { ...app, robots: [ROBOT] }, rongcloud: rongApp });
  im = new TencentIm({ ...app, baseUrl: emulator.url, retry });
  rong = new RongCloud({ ...rongApp, baseUrl: emulator.url, retry });
});
afterAll(async () => {
  await im.close();
  await rong.close();
  await emulator.close();
});
beforeEach(() => {
  emulator.reset();
  emulator.tencent.createGroup({ groupId: 'crew', type: 'Public', members: [ROBOT, 'ann'] });
});

const targets: [string, string, StreamTarget, () => { text: string; state: string; from: string }[]][] = [
  [
    'the robot API',
    'openim_robot_http_svc/send_stream_msg',
    { from: ROBOT, to: 'ann' },
    () => emulator.tencent.conversation('ann', ROBOT),
  ],
  [
    'stream_msg one-to-one',
    'stream_msg/send_c2c_stream_msg',
    { from: ROBOT, to: 'ann', api: 'stream_msg' },
    () => emulator.tencent.conversation('ann', ROBOT),
  ],
  [
    'a group',
    'stream_msg/send_group_stream_msg',
    { from: ROBOT, groupId: 'crew' },
    () => emulator.tencent.groupConversation('crew'),
  ],
];

/** Writes "Hello", waits until the first call has been tried, then ends with the rest. */
async function answer(session: StreamSession, api: string): Promise<void> {
  session.write('Hello');
  await expect.poll(() => emulator.tencent.calls().filter((c) => c.api === api).length).toBeGreaterThan(0);
  await session.end(' world, bye.');
}

describe.each(targets)('on %s, when the opening call’s answer is lost', (_, api, target, shown) => {
  it('adopts the message the call opened (reset after apply) and finishes it: one message', async () => {
    emulator.faults.failNext(api, 1, 'reset-after');
    const session = im.openStream(target);
    await answer(session, api);
    const result = await session.done;
    expect(result).toMatchObject({ reason: 'completed', fallback: false, messages: 1, undelivered: '' });
    expect(shown().filter((m) => m.from === ROBOT)).toMatchObject([
      { text: 'Hello world, bye.', state: 'finished' },
    ]);
  });

  it('opens the message again when the history holds none (reset before apply): one message', async () => {
    emulator.faults.failNext(api, 1, 'reset-before');
    const session = im.openStream(target);
    await answer(session, api);
    const result = await session.done;
    expect(result).toMatchObject({ reason: 'completed', fallback: false, messages: 1 });
    expect(shown().filter((m) => m.from === ROBOT)).toMatchObject([
      { text: 'Hello world, bye.', state: 'finished' },
    ]);
  });
});

const streams: [
  string,
  string,
  () => StreamSession,
  () => { text: string; state: string; from: string }[],
][] = [
  ...targets.map(
    ([name, api, target, shown]) =>
      [name, api, () => im.openStream(target), shown] as (typeof streams)[number],
  ),
  [
    'RongCloud',
    '/v3/message/private/publish_stream.json',
    () => rong.openStream({ from: RONG_BOT, to: 'ann' }),
    () => emulator.rongcloud.conversation('ann', RONG_BOT),
  ],
];

describe.each(streams)('on %s, when a later call’s answer is lost', (_, api, open, shown) => {
  const calls = () =>
    (api.startsWith('/') ? emulator.rongcloud : emulator.tencent).calls().filter((c) => c.api === api);

  it.each(['reset-after', 'reset-before'] as const)(
    '%s: the text shows once, in one message',
    async (kind) => {
      const session = open();
      const opened = new Promise((resolve) => session.once('open', resolve));
      session.write('Hello');
      await opened;
      emulator.faults.failNext(api, 1, kind);
      session.write(' world');
      await expect.poll(() => calls().some((c) => c.fault !== undefined)).toBe(true);
      const result = await session.end(', bye.');
      expect(result).toMatchObject({ reason: 'completed', fallback: false, messages: 1, undelivered: '' });
      const bot = shown().filter((m) => m.from === ROBOT || m.from === RONG_BOT);
      expect(bot).toMatchObject([{ text: 'Hello world, bye.', state: 'finished' }]);
    },
  );
});
