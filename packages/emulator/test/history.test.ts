import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Emulator } from '../src/index.js';
import { emulatorForTests, rawCall } from './rest.js';

/**
 * The history read-back APIs as Tencent documents them: `admin_getroammsg` (one-to-one, by time,
 * newest first, `MaxCnt` and 13 KB per page, continued with `LastMsgKey`/`LastMsgTime`) and
 * `group_msg_get_simple` (a group's latest messages by `MsgSeq`, at most 20 per call).
 */

let emulator: Emulator;
beforeEach(async () => {
  emulator = await emulatorForTests();
});
afterEach(async () => {
  await emulator.close();
});

const now = () => Math.floor(Date.now() / 1000);

async function send(text: string, random: number) {
  const body = {
    From_Account: '@RBT#keeper',
    To_Account: 'amy',
    MsgRandom: random,
    MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: text } }],
  };
  return (await rawCall(emulator, 'openim/sendmsg', body)).json as { MsgKey: string };
}

describe('admin_getroammsg', () => {
  it('lists the messages of a conversation newest first, with the documented fields', async () => {
    const first = await send('one', 11);
    await send('two', 22);
    const { json } = await rawCall(emulator, 'openim/admin_getroammsg', {
      Operator_Account: '@RBT#keeper',
      Peer_Account: 'amy',
      MaxCnt: 100,
      MinTime: now() - 60,
      MaxTime: now() + 60,
    });
    expect(json).toMatchObject({ ErrorCode: 0, Complete: 1, MsgCnt: 2, LastMsgKey: first.MsgKey });
    const list = json?.MsgList as Record<string, unknown>[];
    expect(list.map((m) => m.MsgRandom)).toEqual([22, 11]);
    expect(list[1]).toMatchObject({
      From_Account: '@RBT#keeper',
      To_Account: 'amy',
      MsgKey: first.MsgKey,
      MsgFlagBits: 0,
      MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'one' } }],
    });
    expect(typeof list[1]?.MsgTimeStamp).toBe('number');
  });

  it('pages by MaxCnt and by 13 KB, and continues after LastMsgKey', async () => {
    for (let i = 1; i <= 5; i++) await send(`${i}`.repeat(5000), i);
    const ask = (extra: Record<string, unknown>) =>
      rawCall(emulator, 'openim/admin_getroammsg', {
        Operator_Account: 'amy',
        Peer_Account: '@RBT#keeper',
        MaxCnt: 100,
        MinTime: now() - 60,
        MaxTime: now() + 60,
        ...extra,
      });
    const randoms: unknown[] = [];
    let page = (await ask({})).json;
    for (let pages = 1; ; pages++) {
      const list = page?.MsgList as { MsgRandom: number }[];
      // 5,000 bytes each: two fit in 13 KB, a third does not.
      expect(list.length).toBeLessThanOrEqual(2);
      randoms.push(...list.map((m) => m.MsgRandom));
      if (page?.Complete === 1) break;
      expect(pages).toBeLessThan(5);
      page = (await ask({ MaxTime: page?.LastMsgTime, LastMsgKey: page?.LastMsgKey })).json;
    }
    expect(randoms).toEqual([5, 4, 3, 2, 1]);
    const two = (await ask({ MaxCnt: 1 })).json;
    expect(two).toMatchObject({ Complete: 0, MsgCnt: 1 });
  });

  it('refuses a bad range and MaxCnt with 10004', async () => {
    const base = { Operator_Account: 'amy', Peer_Account: '@RBT#keeper', MinTime: 10, MaxTime: 20 };
    expect((await rawCall(emulator, 'openim/admin_getroammsg', { ...base, MaxCnt: 0 })).json?.ErrorCode).toBe(
      10004,
    );
    expect(
      (await rawCall(emulator, 'openim/admin_getroammsg', { ...base, MaxCnt: 5, MinTime: 30 })).json
        ?.ErrorCode,
    ).toBe(10004);
  });
});

describe('group_msg_get_simple', () => {
  it('returns the latest messages by MsgSeq, at most ReqMsgNumber, and pages with ReqMsgSeq', async () => {
    emulator.tencent.createGroup({ groupId: 'den', type: 'Public', members: ['@RBT#keeper'] });
    for (let i = 1; i <= 3; i++) {
      await rawCall(emulator, 'group_open_http_svc/send_group_msg', {
        GroupId: 'den',
        Random: 100 + i,
        From_Account: '@RBT#keeper',
        MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: `m${i}` } }],
      });
    }
    const latest = (
      await rawCall(emulator, 'group_open_http_svc/group_msg_get_simple', { GroupId: 'den', ReqMsgNumber: 2 })
    ).json;
    expect(latest).toMatchObject({ ErrorCode: 0, GroupId: 'den', IsFinished: 0 });
    const list = latest?.RspMsgList as Record<string, unknown>[];
    expect(list.map((m) => [m.MsgSeq, m.MsgRandom])).toEqual([
      [3, 103],
      [2, 102],
    ]);
    expect(list[0]).toMatchObject({
      From_Account: '@RBT#keeper',
      IsPlaceMsg: 0,
      MsgBody: [{ MsgContent: { Text: 'm3' } }],
    });
    const rest = (
      await rawCall(emulator, 'group_open_http_svc/group_msg_get_simple', {
        GroupId: 'den',
        ReqMsgNumber: 20,
        ReqMsgSeq: 1,
      })
    ).json;
    expect(rest).toMatchObject({ IsFinished: 1, RspMsgList: [{ MsgSeq: 1 }] });
  });

  it('refuses more than 20 messages (10004), a missing group (10010) and live-streaming groups', async () => {
    emulator.tencent.createGroup({ groupId: 'live', type: 'AVChatRoom' });
    const ask = (body: Record<string, unknown>) =>
      rawCall(emulator, 'group_open_http_svc/group_msg_get_simple', body);
    expect((await ask({ GroupId: 'nowhere', ReqMsgNumber: 21 })).json?.ErrorCode).toBe(10004);
    expect((await ask({ GroupId: 'nowhere', ReqMsgNumber: 5 })).json?.ErrorCode).toBe(10010);
    expect((await ask({ GroupId: 'live', ReqMsgNumber: 5 })).json?.ErrorCode).not.toBe(0);
  });
});
