import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Emulator, startEmulator } from '@imbot/emulator';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  RongCloud,
  receiveNodeRequest,
  type StreamSession,
  type StreamTarget,
  TencentIm,
  WebhookPipeline,
} from '../src/index.js';

/**
 * The answer to a streaming call is lost (the connection drops after the cloud applied it, or
 * before): the session reads back what the cloud holds (the conversation's history on Tencent, the
 * stream's content on RongCloud, and for RongCloud's opening call the bot's messages that full
 * message routing posted to the app's receiver) and the user ends up with exactly one finished message with its text
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
/** The app's receiver: RongCloud's routed messages reach `rong.routes` through it. */
let receiver: Server;
let receiverUrl: string;
let pipeline: WebhookPipeline;

beforeAll(async () => {
  emulator = await startEmulator({ tencent: { ...app, robots: [ROBOT] }, rongcloud: rongApp });
  im = new TencentIm({ ...app, baseUrl: emulator.url, retry });
  rong = new RongCloud({ ...rongApp, baseUrl: emulator.url, retry, messageRouting: true });
  pipeline = new WebhookPipeline({ platform: rong.platform });
  receiver = createServer((req, res) => void receiveNodeRequest(pipeline, req, res));
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhook`;
});
afterAll(async () => {
  await im.close();
  await rong.close();
  await emulator.close();
  await new Promise((resolve) => receiver.close(resolve));
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
  [
    'TUIKit one-to-one',
    'openim/sendmsg',
    { from: ROBOT, to: 'ann', format: 'tuikit' },
    () => emulator.tencent.conversation('ann', ROBOT),
  ],
  [
    'TUIKit in a group',
    'group_open_http_svc/send_group_msg',
    { from: ROBOT, groupId: 'crew', format: 'tuikit' },
    () => emulator.tencent.groupConversation('crew'),
  ],
];

/** The API of a stream's later calls: TUIKit's message is opened by sending it and grown by rewriting it. */
const laterApi: Record<string, string> = {
  'openim/sendmsg': 'openim/modify_c2c_msg',
  'group_open_http_svc/send_group_msg': 'openim/modify_group_msg',
};

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
      { kind: 'stream', text: 'Hello world, bye.', state: 'finished' },
    ]);
  });

  it('opens the message again when the history holds none (reset before apply): one message', async () => {
    emulator.faults.failNext(api, 1, 'reset-before');
    const session = im.openStream(target);
    await answer(session, api);
    const result = await session.done;
    expect(result).toMatchObject({ reason: 'completed', fallback: false, messages: 1 });
    expect(shown().filter((m) => m.from === ROBOT)).toMatchObject([
      { kind: 'stream', text: 'Hello world, bye.', state: 'finished' },
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
      [name, laterApi[api] ?? api, () => im.openStream(target), shown] as (typeof streams)[number],
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
      expect(bot).toMatchObject([{ kind: 'stream', text: 'Hello world, bye.', state: 'finished' }]);
    },
  );
});

const rongTargets: [
  string,
  string,
  Parameters<RongCloud['openStream']>[0],
  () => { text: string; state: string; from: string }[],
][] = [
  [
    'one-to-one',
    '/v3/message/private/publish_stream.json',
    { from: RONG_BOT, to: 'ann' },
    () => emulator.rongcloud.conversation('ann', RONG_BOT),
  ],
  [
    'a group',
    '/v3/message/group/publish_stream.json',
    { from: RONG_BOT, groupId: 'crew' },
    () => emulator.rongcloud.groupConversation('crew'),
  ],
];

describe.each(rongTargets)(
  'on RongCloud %s, when the opening call’s answer is lost',
  (_, api, target, shown) => {
    const bot = () => shown().filter((m) => m.from === RONG_BOT);
    const opened = () => emulator.rongcloud.calls().filter((c) => c.api === api).length;

    beforeEach(() => emulator.rongcloud.setMessageRouting({ url: receiverUrl, serverApi: true }));

    it.each(['reset-after', 'reset-before'] as const)(
      '%s: the routed message is adopted or the call made again; one finished message',
      async (kind) => {
        emulator.faults.failNext(api, 1, kind);
        const session = rong.openStream(target);
        session.write('Hello');
        await expect.poll(opened).toBeGreaterThan(0);
        const result = await session.end(' world, bye.');
        expect(result).toMatchObject({ reason: 'completed', fallback: false, messages: 1, undelivered: '' });
        expect(bot()).toMatchObject([{ kind: 'stream', text: 'Hello world, bye.', state: 'finished' }]);
      },
    );

    it('without message routing, the message the lost call opened is left open (what routing mends)', async () => {
      emulator.rongcloud.setMessageRouting(undefined);
      emulator.faults.failNext(api, 1, 'reset-after');
      const unrouted = new RongCloud({ ...rongApp, baseUrl: emulator.url, retry });
      const session = unrouted.openStream(target);
      session.write('Hello');
      await expect.poll(opened).toBeGreaterThan(0);
      // The read-back cannot tell: the message is closed as far as known and the answer sent plain.
      expect(await session.end(' world, bye.')).toMatchObject({ fallback: true, undelivered: '' });
      expect(bot().map((m) => m.state)).toContain('streaming');
      await unrouted.close();
    });

    it('recalls, without a notice, a message whose route comes after the call was judged not applied', async () => {
      // Routes go to a receiver that holds them until the opening call has been made again. The
      // client waits only 200 ms, so the held route still comes within the emulator's 2 s of patience.
      const impatient = new RongCloud({
        ...rongApp,
        baseUrl: emulator.url,
        retry,
        messageRouting: { waitMs: 200 },
      });
      const route = new WebhookPipeline({ platform: impatient.platform });
      let release = () => {};
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      let arrived = 0;
      const late = createServer((req, res) => {
        arrived++;
        void gate.then(() => receiveNodeRequest(route, req, res));
      });
      await new Promise<void>((resolve) => late.listen(0, '127.0.0.1', resolve));
      const { port } = late.address() as AddressInfo;
      emulator.rongcloud.setMessageRouting({ url: `http://127.0.0.1:${port}/webhook`, serverApi: true });
      emulator.faults.failNext(api, 1, 'reset-after');
      try {
        const session = impatient.openStream(target);
        session.write('Hello');
        await expect.poll(() => arrived).toBe(1);
        // Judged not applied: the opening call is made again, and only then does the first route come.
        await expect.poll(opened).toBe(2);
        release();
        const result = await session.end(' world, bye.');
        expect(result).toMatchObject({ reason: 'completed', fallback: false, messages: 1 });
        await expect.poll(() => bot().map((m) => m.state)).toEqual(['recalled', 'finished']);
      } finally {
        release();
        await impatient.close();
        late.closeAllConnections();
        await new Promise((resolve) => late.close(resolve));
      }
      expect(bot()[1]).toMatchObject({ text: 'Hello world, bye.' });
    });
  },
);

describe('when a call’s deadline passes while the cloud is still applying it', () => {
  it('reads back after the cloud had time to apply it: one message, its text once', async () => {
    // The opening call takes 2.5 s to reach the cloud; the client gives up after 300 ms (which its
    // HTTP client's coarse timer makes about a second).
    const api = 'openim_robot_http_svc/send_stream_msg';
    const hasty = new TencentIm({ ...app, baseUrl: emulator.url, retry: { retries: 0 }, timeoutMs: 300 });
    emulator.faults.configure({ latencyMs: 2500, latencySplit: 'before', apis: [api] });
    try {
      const session = hasty.openStream({ from: ROBOT, to: 'ann' });
      session.write('Hello');
      await expect.poll(() => emulator.tencent.conversation('ann', ROBOT).length, { timeout: 5000 }).toBe(1);
      emulator.faults.configure({});
      const result = await session.end(' world, bye.');
      expect(result).toMatchObject({ reason: 'completed', fallback: false, messages: 1, undelivered: '' });
      expect(emulator.tencent.conversation('ann', ROBOT)).toMatchObject([
        { kind: 'stream', text: 'Hello world, bye.', state: 'finished' },
      ]);
    } finally {
      emulator.faults.configure({});
      await hasty.close();
    }
  });
});
