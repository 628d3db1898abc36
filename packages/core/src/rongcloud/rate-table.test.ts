import { describe, expect, it } from 'vitest';
import { ValidationError } from '../errors.js';
import { rongCloudRateCharges, rongCloudRateTable, rongCloudRateTableFor } from './rate-table.js';

describe('rongCloudRateCharges', () => {
  it('counts a private publish once per recipient against 6 000 a minute', () => {
    expect(
      rongCloudRateCharges('/message/private/publish.json', { fromUserId: 'bot', toUserId: ['a', 'b', 'c'] }),
    ).toEqual([{ key: 'private/publish', row: 'private/publish', units: 3, limit: 6000, windowMs: 60_000 }]);
    expect(rongCloudRateCharges('/message/private/publish.json', { toUserId: 'a' })[0]?.units).toBe(1);
  });

  it('counts a group publish once per target group against 20 a second for the whole app', () => {
    expect(rongCloudRateCharges('/message/group/publish.json', { toGroupId: ['g1', 'g2'] })).toEqual([
      { key: 'group/publish', row: 'group/publish', units: 2, limit: 20, windowMs: 1000 },
    ]);
  });

  it('counts a group stream call as a group message, and a private stream call against its own 100 a second', () => {
    expect(rongCloudRateCharges('/v3/message/group/publish_stream.json', { toGroupId: 'g1' })).toMatchObject([
      { key: 'group/publish', units: 1, limit: 20 },
    ]);
    expect(rongCloudRateCharges('/v3/message/private/publish_stream.json', { toUserId: 'u' })).toMatchObject([
      { key: 'private/publish_stream', units: 1, limit: 100, windowMs: 1000 },
    ]);
  });

  it('charges an ultra-group message to the app and to each channel it goes into', () => {
    expect(
      rongCloudRateCharges('/message/ultragroup/publish.json', {
        toGroupIds: ['u1', 'u2'],
        busChannel: 'c1',
      }),
    ).toEqual([
      { key: 'ultragroup/publish', row: 'ultragroup/publish', units: 2, limit: 100, windowMs: 1000 },
      { key: 'ultragroup/channel:u1/c1', row: 'ultragroup/channel', units: 1, limit: 20, windowMs: 1000 },
      { key: 'ultragroup/channel:u2/c1', row: 'ultragroup/channel', units: 1, limit: 20, windowMs: 1000 },
    ]);
  });

  it('holds an API with two documented windows to both: /push.json at 2 an hour and 3 a day', () => {
    expect(rongCloudRateCharges('/push.json', {}).map((c) => [c.key, c.limit, c.windowMs])).toEqual([
      ['push/hour', 2, 3_600_000],
      ['push/day', 3, 86_400_000],
    ]);
  });

  it('gives the APIs the rate table lists off the common 100 a second their own limit', () => {
    expect(rongCloudRateCharges('/user/getToken.json', {})[0]).toMatchObject({ limit: 200, windowMs: 1000 });
    expect(rongCloudRateCharges('/user/tag/batch/set.json', {})[0]).toMatchObject({ limit: 10 });
    expect(rongCloudRateCharges('/message/system/publish.json', { toUserId: ['a', 'b'] })[0]).toMatchObject({
      units: 2,
      limit: 100,
    });
  });

  it('gives any other API a budget of its own at 100 a second', () => {
    expect(rongCloudRateCharges('/v3/bot/get.json', { userIds: ['x'] })).toEqual([
      { key: '/v3/bot/get.json', row: 'other', units: 1, limit: 100, windowMs: 1000 },
    ]);
  });

  it('cites a source for every row and names each row once', () => {
    const names = rongCloudRateTable.map((row) => row.name);
    expect(new Set(names).size).toBe(names.length);
    for (const row of rongCloudRateTable) expect(row.source).not.toBe('');
  });
});

describe('rongCloudRateTableFor', () => {
  it("applies an app's plan by row name", () => {
    const table = rongCloudRateTableFor({ 'group/publish': 50 });
    expect(rongCloudRateCharges('/message/group/publish.json', { toGroupId: 'g' }, table)[0]?.limit).toBe(50);
    expect(
      rongCloudRateCharges('/statusmessage/group/publish.json', { toGroupId: 'g' }, table)[0]?.limit,
    ).toBe(20);
  });

  it('refuses an unknown name and a non-positive limit with a ValidationError naming it', () => {
    expect(() => rongCloudRateTableFor({ 'group/publsh': 50 })).toThrow(ValidationError);
    expect(() => rongCloudRateTableFor({ 'group/publsh': 50 })).toThrow(/"group\/publsh" is not a limit/);
    expect(() => rongCloudRateTableFor({ 'group/publish': 0 }, 'options.limits')).toThrow(
      expect.objectContaining({ field: 'options.limits.group/publish', limit: 'group/publish' }),
    );
  });
});
