import { rongCloudHeaders } from '@imbot/core/internal';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../src/index.js';
import { ADMIN, rawCall, SDK_APP_ID, SECRET_KEY } from './rest.js';

const rong = { appKey: 'emu-rong-key', appSecret: 'emu-rong-secret' };
const tencent = { sdkAppId: SDK_APP_ID, secretKey: SECRET_KEY, admin: ADMIN };
const text = (Text: string) => [{ MsgType: 'TIMTextElem', MsgContent: { Text } }];

// Time stands still unless a test moves it: every call of a burst arrives in the same instant.
let time: number;
let emulator: Emulator;
let running: Emulator | undefined;

async function start(options: Partial<Parameters<typeof startEmulator>[0]> = {}): Promise<void> {
  await stop();
  time = 1_700_000_000_000;
  emulator = await startEmulator({ tencent, rongcloud: rong, ...options, now: () => time });
  running = emulator;
}

async function stop(): Promise<void> {
  const was = running;
  running = undefined;
  await was?.close();
}

beforeEach(() => start());
afterEach(stop);

const errorCode = async (answer: Promise<{ json: Record<string, unknown> | undefined }>) =>
  (await answer).json?.ErrorCode;

/** `n` calls made one after another, so that the window sees them in order. */
async function inOrder<T>(n: number, call: (i: number) => Promise<T>): Promise<T[]> {
  const answers: T[] = [];
  for (let i = 0; i < n; i++) answers.push(await call(i));
  return answers;
}

describe('Tencent: the documented limits by default', () => {
  const groupMsg = (groupId: string, i = 0) =>
    errorCode(
      rawCall(emulator, 'group_open_http_svc/send_group_msg', {
        GroupId: groupId,
        Random: i,
        MsgBody: text(`m${i}`),
      }),
    );

  beforeEach(() => {
    emulator.tencent.createGroup({ groupId: 'g1' });
    emulator.tencent.createGroup({ groupId: 'g2' });
  });

  it('refuses the 41st message into one group within a second with 10023, while another group takes one', async () => {
    const codes = await inOrder(41, (i) => groupMsg('g1', i));
    expect(codes.slice(0, 40).every((c) => c === 0)).toBe(true);
    expect(codes[40]).toBe(10023);
    expect(await groupMsg('g2')).toBe(0);
    expect(emulator.tencent.groupConversation('g1')).toHaveLength(40);
    expect(emulator.tencent.rate()['group-messages:g1']).toMatchObject({
      accepted: 40,
      rejected: 1,
      busiestWindow: 40,
    });
    time += 1000;
    expect(await groupMsg('g1')).toBe(0);
  });

  it('counts a group stream call as a message into that group', async () => {
    await inOrder(40, (i) => groupMsg('g1', i));
    const stream = rawCall(emulator, 'stream_msg/send_group_stream_msg', {
      GroupId: 'g1',
      MsgRandom: 1,
      MsgBody: [
        {
          MsgType: 'TIMStreamElem',
          MsgContent: { Chunks: [{ EventType: 'data', Index: 1, Markdown: 'hi', IsLast: true }] },
        },
      ],
    });
    expect(await errorCode(stream)).toBe(10023);
  });

  it('refuses the 201st sendmsg within a second with 60007, the API frequency limit', async () => {
    const codes = await Promise.all(
      Array.from({ length: 201 }, (_, i) =>
        errorCode(
          rawCall(emulator, 'openim/sendmsg', { To_Account: 'u1', MsgRandom: i, MsgBody: text(`${i}`) }),
        ),
      ),
    );
    expect(codes.filter((c) => c === 0)).toHaveLength(200);
    expect(codes.filter((c) => c === 60007)).toHaveLength(1);
  });

  it("takes an app's plan over the table, and rateLimit as a flat per-API override that keeps the group's 40", async () => {
    await start({ tencent: { ...tencent, limits: { 'group-messages': 50 } } });
    emulator.tencent.createGroup({ groupId: 'g1' });
    expect((await inOrder(51, (i) => groupMsg('g1', i))).at(-1)).toBe(10023);
    expect(emulator.tencent.rate()['group-messages:g1']).toMatchObject({ accepted: 50 });

    await start({ tencent: { ...tencent, rateLimit: 3 } });
    emulator.tencent.createGroup({ groupId: 'g1' });
    expect(await inOrder(4, (i) => groupMsg('g1', i))).toEqual([0, 0, 0, 60007]);
  });

  it('refuses an unknown limit name at start-up, naming it', async () => {
    await expect(start({ tencent: { ...tencent, limits: { sendmsg: 400 } } })).rejects.toMatchObject({
      code: 'VALIDATION',
      field: 'tencent.limits.sendmsg',
    });
    await start();
  });
});

describe('RongCloud: the documented limits by default', () => {
  async function form(path: string, fields: Record<string, string | string[]>) {
    const body = new URLSearchParams();
    for (const [key, value] of Object.entries(fields)) for (const v of [value].flat()) body.append(key, v);
    const response = await fetch(`${emulator.url}${path}`, {
      method: 'POST',
      headers: { ...rongCloudHeaders(rong), 'content-type': 'application/x-www-form-urlencoded' },
      body: body.toString(),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  }
  const message = { objectName: 'RC:TxtMsg', content: JSON.stringify({ content: 'hi' }) };
  const toGroups = (...toGroupId: string[]) =>
    form('/message/group/publish.json', { fromUserId: 'bot', toGroupId, ...message });
  const toUsers = (...toUserId: string[]) =>
    form('/message/private/publish.json', { fromUserId: 'bot', toUserId, ...message });
  const limited = { status: 429, json: { code: 1008, errorMessage: 'The call frequency exceeds the limit' } };

  it('refuses the 21st group message within a second with 429 and its body, whichever group it goes to', async () => {
    const answers = await inOrder(20, () => toGroups('g1'));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    // The 20 a second are the app's, counted per target group: not 20 in each group.
    expect(await toGroups('g1')).toEqual(limited);
    expect(await toGroups('g2')).toEqual(limited);
    time += 1000;
    expect((await toGroups('g2')).status).toBe(200);
  });

  it('counts a publish to 3 groups as 3 messages', async () => {
    await inOrder(6, () => toGroups('g1', 'g2', 'g3'));
    expect((await toGroups('g1', 'g2')).status).toBe(200);
    expect(await toGroups('g4')).toEqual(limited);
    expect(emulator.rongcloud.rate()['group/publish']).toMatchObject({ accepted: 20, rejected: 1 });
  });

  it('counts a private publish once per recipient against 6 000 a minute', async () => {
    const thousand = Array.from({ length: 1000 }, (_, i) => `u${i}`);
    await inOrder(5, () => toUsers(...thousand));
    time += 30_000;
    expect((await toUsers(...thousand.slice(0, 997))).status).toBe(200);
    // 5 997 sent in this minute: a call to 3 users is 3 messages, one more than the minute allows.
    expect(await toUsers('a', 'b', 'c', 'd')).toEqual(limited);
    expect((await toUsers('a', 'b', 'c')).status).toBe(200);
    expect(emulator.rongcloud.rate()['private/publish']).toMatchObject({ accepted: 6000, rejected: 4 });
    time += 30_000; // the first 5 000 leave the window
    expect((await toUsers(...thousand)).status).toBe(200);
  });

  it("takes an app's plan by row name", async () => {
    await start({ rongcloud: { ...rong, limits: { 'group/publish': 30 } } });
    const answers = await inOrder(31, () => toGroups('g1'));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(30);
    expect(answers.at(-1)).toEqual(limited);
  });
});
