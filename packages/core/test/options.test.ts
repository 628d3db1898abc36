import { startEmulator } from '@imbot/emulator';
import { describe, expect, it } from 'vitest';
import { type RateLimiter, RongCloud, TencentIm } from '../src/index.js';

const tencent = {
  sdkAppId: 1400000000,
  admin: 'administrator',
  secretKey: 'key',
  baseUrl: 'http://127.0.0.1:9',
};
const rong = { appKey: 'key', appSecret: 'secret', baseUrl: 'http://127.0.0.1:9' };

const validation = (field: string) =>
  expect.objectContaining({ name: 'ValidationError', code: 'VALIDATION', field });

describe('client options', () => {
  it.each([true, 'yes', {}, { acquire: 'now' }])(
    'refuse rateLimit: %j at construction, naming the option',
    (rateLimit) => {
      expect(() => new TencentIm({ ...tencent, rateLimit } as never)).toThrow(
        validation('options.rateLimit'),
      );
      expect(() => new RongCloud({ ...rong, rateLimit } as never)).toThrow(validation('options.rateLimit'));
    },
  );

  it('take a RateLimiter, which then counts every call under the app and API, or false', async () => {
    const emulator = await startEmulator();
    const keys: string[] = [];
    let held = 0;
    const limiter: RateLimiter = {
      acquire: async (key) => {
        keys.push(key);
        held++;
        return { release: () => void held-- };
      },
    };
    const im = new TencentIm({
      sdkAppId: emulator.tencent.sdkAppId,
      admin: emulator.tencent.admin,
      secretKey: emulator.tencent.secretKey,
      baseUrl: emulator.url,
      rateLimit: limiter,
    });
    const rongcloud = new RongCloud({
      appKey: emulator.rongcloud.appKey,
      appSecret: emulator.rongcloud.appSecret,
      baseUrl: emulator.url,
      rateLimit: limiter,
    });
    await im.getAllRobots();
    await rongcloud.getBots(['bot']);
    expect(keys).toEqual([
      `tencent:${emulator.tencent.sdkAppId}/openim_robot_http_svc/get_all_robots`,
      `rongcloud:${emulator.rongcloud.appKey}//v3/bot/get.json`,
    ]);
    expect(held).toBe(0);
    // Without a limiter the calls go all the same.
    const free = new TencentIm({
      sdkAppId: emulator.tencent.sdkAppId,
      admin: emulator.tencent.admin,
      secretKey: emulator.tencent.secretKey,
      baseUrl: emulator.url,
      rateLimit: false,
    });
    expect(await free.getAllRobots()).toEqual([]);
    expect(keys).toHaveLength(2);
    await Promise.all([
      im.close(),
      rongcloud.close(),
      free.close(),
      new RongCloud({ ...rong, rateLimit: false }).close(),
    ]);
    await emulator.close();
  });
});

describe('RongCloud openStream targets', () => {
  it.each([
    [{ from: 'bot', to: '' }, 'openStream.to'],
    [{ from: 'bot', to: 'u'.repeat(65) }, 'openStream.to'],
    [{ from: 'bot', groupId: '' }, 'openStream.groupId'],
    [{ from: '', to: 'u' }, 'openStream.from'],
  ])('refuses %j before opening anything', async (target, field) => {
    const emulator = await startEmulator();
    const client = new RongCloud({
      appKey: emulator.rongcloud.appKey,
      appSecret: emulator.rongcloud.appSecret,
      baseUrl: emulator.url,
    });
    expect(() => client.openStream(target as never)).toThrow(validation(field));
    expect(client.stats().streams).toEqual({ open: 0, queued: 0 });
    // A sentinel call that does arrive, then close(), which would make the closing call of any
    // session left open: the sentinel must be the only call the cloud saw.
    await client.getBots(['sentinel']);
    await client.close();
    expect(emulator.rongcloud.calls().map((call) => call.api)).toEqual(['/v3/bot/get.json']);
    await emulator.close();
  });
});
