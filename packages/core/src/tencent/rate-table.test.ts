import { describe, expect, it } from 'vitest';
import { ValidationError } from '../errors.js';
import { tencentRateCharges, tencentRateTable, tencentRateTableFor } from './rate-table.js';

describe('tencentRateCharges', () => {
  it('charges a group message to its API and to the group it goes into', () => {
    expect(tencentRateCharges('group_open_http_svc/send_group_msg', { GroupId: 'g1' })).toEqual([
      {
        key: 'group_open_http_svc/send_group_msg',
        row: 'group_open_http_svc/send_group_msg',
        units: 1,
        limit: 200,
        windowMs: 1000,
      },
      { key: 'group-messages:g1', row: 'group-messages', units: 1, limit: 40, windowMs: 1000 },
    ]);
  });

  it('counts a group stream call as a message into the group, and a continuation on its stream too', () => {
    const keys = tencentRateCharges('stream_msg/send_group_stream_msg', {
      GroupId: 'g1',
      MsgBody: [{ MsgType: 'TIMStreamElem', MsgContent: { StreamMsgID: 's9', Chunks: [] } }],
    }).map((c) => [c.key, c.limit]);
    expect(keys).toEqual([
      ['stream_msg/send_group_stream_msg', 200],
      ['group-messages:g1', 40],
      ['stream-calls:s9', 5],
    ]);
  });

  it('charges a one-to-one message to its API alone', () => {
    expect(tencentRateCharges('v4/openim/sendmsg', { To_Account: 'u1' }).map((c) => c.key)).toEqual([
      'openim/sendmsg',
    ]);
  });

  it('counts each recipient of batchsendmsg against 12 000 a minute', () => {
    expect(tencentRateCharges('openim/batchsendmsg', { To_Account: ['a', 'b', 'c'] })).toEqual([
      { key: 'openim/batchsendmsg', row: 'openim/batchsendmsg', units: 3, limit: 12_000, windowMs: 60_000 },
    ]);
  });

  it('gives an API the table does not name a budget of its own at the default 200 a second', () => {
    const [a] = tencentRateCharges('openim/admin_getroammsg', {});
    const [b] = tencentRateCharges('openim/modify_c2c_msg', {});
    expect(a).toEqual({ key: 'openim/admin_getroammsg', row: 'other', units: 1, limit: 200, windowMs: 1000 });
    expect(b?.key).toBe('openim/modify_c2c_msg');
  });

  it('cites a source for every row and names each row once', () => {
    const names = tencentRateTable.map((row) => row.name);
    expect(new Set(names).size).toBe(names.length);
    for (const row of tencentRateTable) expect(row.source).not.toBe('');
  });
});

describe('tencentRateTableFor', () => {
  it("applies an app's plan by row name, leaving the other rows as documented", () => {
    const table = tencentRateTableFor({ 'openim/sendmsg': 400, 'group-messages': 60 });
    expect(tencentRateCharges('openim/sendmsg', {}, table)[0]?.limit).toBe(400);
    expect(
      tencentRateCharges('group_open_http_svc/send_group_msg', { GroupId: 'g' }, table).map((c) => c.limit),
    ).toEqual([200, 60]);
  });

  it.each([
    [{ sendmsg: 400 }, 'limits.sendmsg'],
    [{ 'openim/sendmsg': 0 }, 'limits.openim/sendmsg'],
    [{ 'openim/sendmsg': -5 }, 'limits.openim/sendmsg'],
    [{ 'openim/sendmsg': 1.5 }, 'limits.openim/sendmsg'],
  ])('refuses %j with a ValidationError naming the limit', (limits, field) => {
    const refusal = (() => {
      try {
        tencentRateTableFor(limits);
      } catch (error) {
        return error;
      }
    })();
    expect(refusal).toBeInstanceOf(ValidationError);
    expect(refusal).toMatchObject({ code: 'VALIDATION', field });
  });
});
