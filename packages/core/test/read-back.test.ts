import { type Emulator, startEmulator } from '@imbot/emulator';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type StreamSession, type StreamTarget, TencentIm } from '../src/index.js';

/**
 * The answer to the call that opens a streamed message is lost (the connection drops after the cloud
 * applied it, or before): the session reads the conversation's history back and the user ends up
 * with exactly one finished message, never a dangling one beside a second.
 */

const app = { sdkAppId: 1400000321, secretKey: 'read-back-secret', admin: 'administrator' };
const ROBOT = '@RBT#reader';

let emulator: Emulator;
let im: TencentIm;

beforeAll(async () => {
  emulator = await startEmulator({ tencent: { ...app, robots: [ROBOT] } });
  im = new TencentIm({ ...app, baseUrl: emulator.url, retry: { retries: 2, minDelayMs: 1, maxDelayMs: 5 } });
});
afterAll(async () => {
  await im.close();
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
