import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { signature } from '../src/rongcloud/rules.js';
import { callbackSign, checkUserSig } from '../src/tencent/rules.js';
import { ADMIN, emulatorForTests, rawCall, SDK_APP_ID, SECRET_KEY } from './rest.js';

/**
 * The emulator states the clouds' rules on its own, not through `@imbot/core`: these are checked
 * against fixed vectors and against Tencent's own UserSig library, never against core.
 */

type VendorApi = new (
  sdkAppId: number,
  key: string,
) => {
  genUserSig(userId: string, expire: number): string;
  genSig(userId: string, expire: number, userBuf: Buffer | null): string;
};
const { Api: VendorApi } = createRequire(import.meta.url)('tls-sig-api-v2') as { Api: VendorApi };

const KEY = '5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e';
/** The known answer for xiaojun: SDKAppID 1400000000, time 1700000000, expire 15552000. */
const XIAOJUN =
  'eJyrVgrxCdYrSy1SslIy0jNQ0gHzM1NS80oy0zLBwhWZiflZpXlQqeKU7MSCgswUJStDEwMogMiUZOamKlkZmqOKplYUZBaBxE1NTY3gosWZ6UpWSj5ljuYp*p7l5unBxXnF2WVhVU4uAf7Ozi5JpX7O5SbuHuUhzgZJmQXaTia2SrUAohcx8g__';
const app = { sdkAppId: 1400000000, secretKey: KEY };

describe("the emulator's UserSig check", () => {
  it('accepts the known-answer vector while it is valid, and refuses it as the cloud does', () => {
    expect(checkUserSig(XIAOJUN, app, 1_700_000_000_000)).toEqual({ userId: 'xiaojun' });
    expect(checkUserSig(XIAOJUN, app, (1_700_000_000 + 15_552_000) * 1000)).toEqual({ userId: 'xiaojun' });
    expect(checkUserSig(XIAOJUN, app, (1_700_000_000 + 15_552_001) * 1000)).toMatchObject({ code: 70001 });
    expect(checkUserSig(XIAOJUN, { ...app, secretKey: 'another' }, 1_700_000_000_000)).toMatchObject({
      code: 70009,
    });
    expect(checkUserSig(XIAOJUN, { ...app, sdkAppId: 1400000001 }, 1_700_000_000_000)).toMatchObject({
      code: 70014,
    });
    expect(checkUserSig('not-a-usersig', app, 1_700_000_000_000)).toMatchObject({ code: 70003 });
  });

  it("accepts UserSigs made by Tencent's own library, with and without TLS.userbuf", () => {
    const vendor = new VendorApi(app.sdkAppId, KEY);
    expect(checkUserSig(vendor.genUserSig('alice', 3600), app, Date.now())).toEqual({ userId: 'alice' });
    const withUserbuf = vendor.genSig('bob', 3600, Buffer.from('room 1234'));
    expect(checkUserSig(withUserbuf, app, Date.now())).toEqual({ userId: 'bob' });
  });

  it("takes a REST call signed with a TLS.userbuf UserSig from Tencent's library", async () => {
    const emulator = await emulatorForTests();
    const userSig = new VendorApi(SDK_APP_ID, SECRET_KEY).genSig(ADMIN, 3600, Buffer.from('any'));
    const { json } = await rawCall(
      emulator,
      'openim_robot_http_svc/get_all_robots',
      {},
      { query: { usersig: userSig } },
    );
    expect(json?.ErrorCode).toBe(0);
    await emulator.close();
  });
});

describe("the emulator's signatures", () => {
  it('signs a Tencent callback as hex SHA-256 of the token and RequestTime', () => {
    expect(callbackSign('callback-token', 1700000000)).toBe(
      'd52082cbd32276388cdf9b92417269498762c15eb5c806bc9999918d00660501',
    );
  });

  it('signs a RongCloud request as hex SHA-1 of the App Secret, nonce and timestamp', () => {
    expect(signature('app-secret', '14314', '1408710653491')).toBe(
      'd1b40ad7af23b86c0a7efd3d70b154ccf91f499d',
    );
  });
});
