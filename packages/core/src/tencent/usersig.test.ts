import { createRequire } from 'node:module';
import { deflateSync, inflateSync } from 'node:zlib';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { UserSigError } from './errors.js';
import { decodeUserSig, genUserSig, verifyUserSig } from './usersig.js';

const key = '5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e';
const now = 1_700_000_000_000;

function documentOf(userSig: string): Record<string, unknown> {
  const base64 = userSig.replace(/\*/g, '+').replace(/-/g, '/').replace(/_/g, '=');
  return JSON.parse(inflateSync(Buffer.from(base64, 'base64')).toString('utf8'));
}

/** A UserSig document encoded as the cloud reads it, signature untouched: for forgeries. */
function encodeDocument(document: Record<string, unknown>): string {
  return deflateSync(JSON.stringify(document))
    .toString('base64')
    .replace(/\+/g, '*')
    .replace(/\//g, '-')
    .replace(/=/g, '_');
}

type VendorApi = new (
  sdkAppId: number,
  key: string,
) => {
  genUserSig(userId: string, expire: number): string;
  genSig(userId: string, expire: number, userbuf: Buffer | null): string;
};
const { Api: VendorApi } = createRequire(import.meta.url)('tls-sig-api-v2') as { Api: VendorApi };

describe('genUserSig', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('matches the known-answer vector for xiaojun', () => {
    const userSig = genUserSig({
      sdkAppId: 1400000000,
      secretKey: key,
      userId: 'xiaojun',
      expireSeconds: 15552000,
      now,
    });
    expect(documentOf(userSig)).toEqual({
      'TLS.ver': '2.0',
      'TLS.identifier': 'xiaojun',
      'TLS.sdkappid': 1400000000,
      'TLS.time': 1700000000,
      'TLS.expire': 15552000,
      'TLS.sig': 'LvA7d/Iw7gSsnskvVzBDPOCCDbuNCw4GHwTC0bip+B4=',
    });
    // At Node's default zlib level the whole string matches the vector too.
    expect(userSig).toBe(
      'eJyrVgrxCdYrSy1SslIy0jNQ0gHzM1NS80oy0zLBwhWZiflZpXlQqeKU7MSCgswUJStDEwMogMiUZOamKlkZmqOKplYUZBaBxE1NTY3gosWZ6UpWSj5ljuYp*p7l5unBxXnF2WVhVU4uAf7Ozi5JpX7O5SbuHuUhzgZJmQXaTia2SrUAohcx8g__',
    );
  });

  it('matches the known-answer vector for administrator', () => {
    const userSig = genUserSig({
      sdkAppId: 1400000000,
      secretKey: key,
      userId: 'administrator',
      expireSeconds: 86400,
      now,
    });
    expect(documentOf(userSig)['TLS.sig']).toBe('yLAe+w7WUeUuqbV9h/TX78u21oTGi+i9Zp1u3PpnY60=');
  });

  it('agrees with the vendor package tls-sig-api-v2 on any id, app, key and validity', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 32 }),
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.string({ minLength: 1, maxLength: 64 }),
        fc.integer({ min: 1, max: 50 * 365 * 86400 }),
        fc.integer({ min: 1_500_000_000_000, max: 2_000_000_000_000 }),
        (userId, sdkAppId, secretKey, expireSeconds, at) => {
          vi.spyOn(Date, 'now').mockReturnValue(at);
          const theirs = new VendorApi(sdkAppId, secretKey).genUserSig(userId, expireSeconds);
          const ours = genUserSig({ sdkAppId, secretKey, userId, expireSeconds, now: at });
          expect(documentOf(ours)).toEqual(documentOf(theirs));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('verifyUserSig', () => {
  const made = genUserSig({
    sdkAppId: 1400000000,
    secretKey: key,
    userId: 'administrator',
    expireSeconds: 86400,
    now,
  });

  function problemOf(run: () => unknown): string | undefined {
    try {
      run();
    } catch (error) {
      expect(error).toBeInstanceOf(UserSigError);
      return (error as UserSigError).problem;
    }
    return undefined;
  }

  it('accepts its own UserSig and reports the user and expiry', () => {
    expect(verifyUserSig({ sdkAppId: 1400000000, secretKey: key, userSig: made, now: now + 1000 })).toEqual({
      userId: 'administrator',
      expiresAt: now + 86_400_000,
    });
  });

  it('accepts a UserSig made by the vendor package', () => {
    vi.spyOn(Date, 'now').mockReturnValue(now);
    const theirs = new VendorApi(1400000000, key).genUserSig('admin', 3600);
    vi.restoreAllMocks();
    expect(verifyUserSig({ sdkAppId: 1400000000, secretKey: key, userSig: theirs, now }).userId).toBe(
      'admin',
    );
  });

  it('accepts a UserSig that carries TLS.userbuf, and refuses it once its userbuf is changed', () => {
    vi.spyOn(Date, 'now').mockReturnValue(now);
    const theirs = new VendorApi(1400000000, key).genSig('admin', 3600, Buffer.from('room 1234'));
    vi.restoreAllMocks();
    expect(documentOf(theirs)['TLS.userbuf']).toBe(Buffer.from('room 1234').toString('base64'));
    expect(verifyUserSig({ sdkAppId: 1400000000, secretKey: key, userSig: theirs, now }).userId).toBe(
      'admin',
    );
    const edited = { ...documentOf(theirs), 'TLS.userbuf': Buffer.from('room 9999').toString('base64') };
    const forged = encodeDocument(edited);
    expect(
      problemOf(() => verifyUserSig({ sdkAppId: 1400000000, secretKey: key, userSig: forged, now })),
    ).toBe('bad-signature');
  });

  it('refuses an expired one, at the exact second it expires', () => {
    expect(
      problemOf(() =>
        verifyUserSig({ sdkAppId: 1400000000, secretKey: key, userSig: made, now: now + 86_400_000 }),
      ),
    ).toBe('expired');
  });

  it('refuses another app and another key', () => {
    expect(problemOf(() => verifyUserSig({ sdkAppId: 1400000001, secretKey: key, userSig: made, now }))).toBe(
      'sdkappid-mismatch',
    );
    expect(
      problemOf(() => verifyUserSig({ sdkAppId: 1400000000, secretKey: `${key}x`, userSig: made, now })),
    ).toBe('bad-signature');
  });

  it('refuses any string that is not a UserSig without throwing anything but UserSigError', () => {
    fc.assert(
      fc.property(fc.string(), (garbage) => {
        const problem = problemOf(() =>
          verifyUserSig({ sdkAppId: 1400000000, secretKey: key, userSig: garbage, now }),
        );
        expect(problem).toBeDefined();
      }),
    );
  });

  it('refuses a UserSig whose document was edited after signing', () => {
    const document = documentOf(made);
    document['TLS.expire'] = 999_999_999;
    const forged = encodeDocument(document);
    expect(
      problemOf(() => verifyUserSig({ sdkAppId: 1400000000, secretKey: key, userSig: forged, now })),
    ).toBe('bad-signature');
  });

  it('decodes claims without a key', () => {
    expect(decodeUserSig(made)).toEqual({
      userId: 'administrator',
      sdkAppId: 1400000000,
      issuedAt: 1700000000,
      expireSeconds: 86400,
      expiresAt: now + 86_400_000,
    });
  });
});
