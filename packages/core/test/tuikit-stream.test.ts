import { type Emulator, startEmulator } from '@imbot/emulator';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TencentIm } from '../src/index.js';

/**
 * TUIKit's AI-robot format (`streamFormat: 'tuikit'`): an answer is one custom message
 * `{chatbotPlugin: 2, src: 2, chunks, isFinished}` opened with `sendmsg` / `send_group_msg` and
 * rewritten whole with `modify_c2c_msg` / `modify_group_msg` as it grows.
 */

const app = { sdkAppId: 1400000777, secretKey: 'tuikit-secret', admin: 'administrator' };
const ROBOT = '@RBT#tuikit';

let emulator: Emulator;
let im: TencentIm;

beforeAll(async () => {
  emulator = await startEmulator({ tencent: { ...app, robots: [ROBOT] } });
});
afterAll(async () => {
  await emulator.close();
});
beforeEach(() => {
  emulator.reset();
  im = new TencentIm({ ...app, baseUrl: emulator.url, streamFormat: 'tuikit' });
});
afterEach(async () => {
  await im.close();
});

/** The chatbotPlugin data each call of `apis` carried, in order. */
function states(...apis: string[]): Record<string, unknown>[] {
  return emulator.tencent
    .calls()
    .filter((c) => apis.includes(c.api))
    .map((c) => {
      const body = c.body as { MsgBody: { MsgContent: { Data: string } }[] };
      return JSON.parse(body.MsgBody[0]?.MsgContent.Data ?? '{}') as Record<string, unknown>;
    });
}

describe("streamFormat: 'tuikit'", () => {
  it('streams one src 2 message of several states, the last finished with the whole text, and no stream API', async () => {
    const session = im.openStream({ from: ROBOT, to: 'ann' }, { minIntervalMs: 0 });
    const opened = new Promise((resolve) => session.once('open', resolve));
    session.write('Hello');
    await opened;
    const result = await session.end(', world.');
    expect(result).toMatchObject({ reason: 'completed', messages: 1, fallback: false });
    const sent = states('openim/sendmsg', 'openim/modify_c2c_msg');
    expect(sent.length).toBeGreaterThanOrEqual(2);
    for (const state of sent) expect(state).toMatchObject({ chatbotPlugin: 2, src: 2 });
    // The session may hold the last grapheme back until it knows nothing combines with it.
    expect(sent[0]).toMatchObject({ isFinished: 0, chunks: [expect.stringMatching(/^Hell/)] });
    expect(sent.at(-1)).toEqual({ chatbotPlugin: 2, src: 2, chunks: ['Hello, world.'], isFinished: 1 });
    const apis = emulator.tencent.calls().map((c) => c.api);
    expect(apis.filter((api) => api.includes('stream'))).toEqual([]);
    expect(emulator.tencent.conversation('ann', ROBOT)).toMatchObject([
      { from: ROBOT, text: 'Hello, world.', state: 'finished', chatbot: { isFinished: 1 } },
    ]);
  });

  it('is chosen per session too, over the client default', async () => {
    const plain = new TencentIm({ ...app, baseUrl: emulator.url });
    await plain.openStream({ from: ROBOT, to: 'bob' }, { format: 'tuikit' }).end('Hi.');
    await plain.openStream({ from: ROBOT, to: 'bob' }).end('Streamed.');
    await plain.close();
    const apis = emulator.tencent.calls().map((c) => c.api);
    expect(apis).toContain('openim/sendmsg');
    expect(apis).toContain('openim_robot_http_svc/send_stream_msg');
  });

  it('streams into a group with send_group_msg and modify_group_msg, @-mentioning the asker', async () => {
    emulator.tencent.createGroup({ groupId: 'crew', type: 'Public', members: [ROBOT, 'ann'] });
    const session = im.openStream({ from: ROBOT, groupId: 'crew', mention: ['ann'] }, { minIntervalMs: 0 });
    const opened = new Promise((resolve) => session.once('open', resolve));
    session.write('One');
    await opened;
    await session.end(' two.');
    expect(states('group_open_http_svc/send_group_msg', 'openim/modify_group_msg').at(-1)).toEqual({
      chatbotPlugin: 2,
      src: 2,
      chunks: ['@ann One two.'],
      isFinished: 1,
    });
    expect(emulator.tencent.groupConversation('crew')).toMatchObject([
      { from: ROBOT, text: '@ann One two.', state: 'finished', mentions: ['ann'] },
    ]);
  });

  it('ends an answer that was interrupted in src 23, keeping the text in errorInfo', async () => {
    const session = im.openStream({ from: ROBOT, to: 'cat' }, { minIntervalMs: 0 });
    const opened = new Promise((resolve) => session.once('open', resolve));
    session.write('Half an answer');
    await opened;
    const result = await session.abort(new Error('the model went away'));
    expect(result.reason).toBe('aborted');
    expect(states('openim/sendmsg', 'openim/modify_c2c_msg').at(-1)).toEqual({
      chatbotPlugin: 2,
      src: 23,
      errorInfo: 'Half an answer',
      isFinished: 1,
    });
    expect(emulator.tencent.conversation('cat', ROBOT)).toMatchObject([
      { text: 'Half an answer', state: 'finished', chatbot: { src: 23 } },
    ]);
  });

  it('leaves no message when an answer is interrupted before any text', async () => {
    const session = im.openStream({ from: ROBOT, to: 'dan' }, { minIntervalMs: 0 });
    await session.abort(new Error('no text at all'));
    expect(emulator.tencent.conversation('dan', ROBOT)).toEqual([]);
  });

  it('continues past 8 KB of text in a new message, each finished, the text exact', async () => {
    const session = im.openStream({ from: ROBOT, to: 'eve' }, { minIntervalMs: 0, maxChunkBytes: 4096 });
    const text = 'Twenty bytes of it. '.repeat(1000);
    await session.end(text);
    const shown = emulator.tencent.conversation('eve', ROBOT);
    expect(shown.length).toBeGreaterThan(2);
    expect(shown.map((m) => m.text).join('')).toBe(text);
    for (const m of shown) {
      expect(m.state).toBe('finished');
      expect(Buffer.byteLength(m.text)).toBeLessThanOrEqual(8 * 1024);
    }
  });
});
