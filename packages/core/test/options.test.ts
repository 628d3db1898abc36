import { describe, expect, it } from 'vitest';
import { RongCloud, TencentIm } from '../src/index.js';

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

  it('take false or a RateLimiter', async () => {
    const limiter = { acquire: async () => ({ release() {} }) };
    for (const rateLimit of [false, limiter] as const) {
      await new TencentIm({ ...tencent, rateLimit }).close();
      await new RongCloud({ ...rong, rateLimit }).close();
    }
  });
});

describe('RongCloud openStream targets', () => {
  it.each([
    [{ from: 'bot', to: '' }, 'openStream.to'],
    [{ from: 'bot', to: 'u'.repeat(65) }, 'openStream.to'],
    [{ from: 'bot', groupId: '' }, 'openStream.groupId'],
    [{ from: '', to: 'u' }, 'openStream.from'],
  ])('refuses %j before opening anything', async (target, field) => {
    const client = new RongCloud(rong);
    expect(() => client.openStream(target as never)).toThrow(validation(field));
    await client.close();
  });
});
