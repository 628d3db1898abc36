import { createHmac, timingSafeEqual } from 'node:crypto';
import { deflateSync, inflateSync } from 'node:zlib';
import * as z from 'zod';
import { UserSigError } from './errors.js';

/**
 * UserSig, Tencent Cloud Chat's credential (TLSSigAPIv2, HMAC-SHA256): a zlib-deflated JSON document
 * signed with the app's secret key, in a base64 variant that swaps `+/=` for `*-_` so that it can sit
 * in a URL unescaped. Implemented on `node:crypto` and `node:zlib` so core needs no vendor package.
 */

export interface GenUserSigOptions {
  sdkAppId: number;
  secretKey: string;
  userId: string;
  /** How long the UserSig stays valid, in seconds (a duration, not a date). */
  expireSeconds: number;
  /** The signing time in milliseconds since the epoch; defaults to `Date.now()`. */
  now?: number;
}

export interface VerifyUserSigOptions {
  sdkAppId: number;
  secretKey: string;
  userSig: string;
  /** The checking time in milliseconds since the epoch; defaults to `Date.now()`. */
  now?: number;
}

/** What a UserSig says about itself, read without checking its signature. */
export interface UserSigClaims {
  userId: string;
  sdkAppId: number;
  /** Signing time, seconds since the epoch. */
  issuedAt: number;
  /** Validity, seconds. */
  expireSeconds: number;
  /** End of validity, milliseconds since the epoch. */
  expiresAt: number;
}

const sigDocument = z.object({
  'TLS.ver': z.literal('2.0'),
  'TLS.identifier': z.string(),
  'TLS.sdkappid': z.number().int(),
  'TLS.time': z.number().int(),
  'TLS.expire': z.number().int(),
  'TLS.sig': z.string(),
  /** Base64 bytes some UserSigs carry (Tencent's own library makes them with `genPrivateMapKey`). */
  'TLS.userbuf': z.string().optional(),
});

/** The HMAC input, byte for byte as TLSSigAPIv2 builds it: `TLS.userbuf` last, when the UserSig has one. */
function signedContent(
  userId: string,
  sdkAppId: number,
  time: number,
  expire: number,
  userbuf?: string,
): string {
  const content = `TLS.identifier:${userId}\nTLS.sdkappid:${sdkAppId}\nTLS.time:${time}\nTLS.expire:${expire}\n`;
  return userbuf === undefined ? content : `${content}TLS.userbuf:${userbuf}\n`;
}

function hmac(secretKey: string, content: string): string {
  return createHmac('sha256', secretKey).update(content).digest('base64');
}

function toUrlBase64(buffer: Buffer): string {
  return buffer.toString('base64').replace(/\+/g, '*').replace(/\//g, '-').replace(/=/g, '_');
}

function fromUrlBase64(text: string): Buffer {
  return Buffer.from(text.replace(/\*/g, '+').replace(/-/g, '/').replace(/_/g, '='), 'base64');
}

/** Creates a UserSig for `userId`, valid for `expireSeconds` from `now`. */
export function genUserSig(options: GenUserSigOptions): string {
  const time = Math.floor((options.now ?? Date.now()) / 1000);
  const content = signedContent(options.userId, options.sdkAppId, time, options.expireSeconds);
  const document = {
    'TLS.ver': '2.0',
    'TLS.identifier': options.userId,
    'TLS.sdkappid': options.sdkAppId,
    'TLS.time': time,
    'TLS.expire': options.expireSeconds,
    'TLS.sig': hmac(options.secretKey, content),
  };
  return toUrlBase64(deflateSync(JSON.stringify(document)));
}

/** A UserSig is short; anything that inflates past this is not one (and may be a zip bomb). */
const MAX_INFLATED_BYTES = 4096;

function decode(userSig: string): z.infer<typeof sigDocument> {
  try {
    const json = inflateSync(fromUrlBase64(userSig), { maxOutputLength: MAX_INFLATED_BYTES }).toString(
      'utf8',
    );
    return sigDocument.parse(JSON.parse(json));
  } catch {
    throw new UserSigError(
      'malformed',
      'the UserSig cannot be decoded; was it truncated or URL-escaped twice?',
    );
  }
}

function claimsOf(document: z.infer<typeof sigDocument>): UserSigClaims {
  return {
    userId: document['TLS.identifier'],
    sdkAppId: document['TLS.sdkappid'],
    issuedAt: document['TLS.time'],
    expireSeconds: document['TLS.expire'],
    expiresAt: (document['TLS.time'] + document['TLS.expire']) * 1000,
  };
}

/**
 * Reads a UserSig's claims without checking its signature: for a client handed UserSigs by a
 * `userSig()` callback, to know when to ask for a new one.
 */
export function decodeUserSig(userSig: string): UserSigClaims {
  return claimsOf(decode(userSig));
}

/**
 * Checks a UserSig as the cloud does: decodable, issued for `sdkAppId`, signed with `secretKey`
 * (compared in constant time), not expired. Returns its user id and expiry; throws `UserSigError`
 * whose `problem` says which check failed.
 */
export function verifyUserSig(options: VerifyUserSigOptions): { userId: string; expiresAt: number } {
  const document = decode(options.userSig);
  const claims = claimsOf(document);
  if (claims.sdkAppId !== options.sdkAppId) {
    throw new UserSigError('sdkappid-mismatch', 'the UserSig was issued for another SDKAppID');
  }
  const content = signedContent(
    claims.userId,
    claims.sdkAppId,
    claims.issuedAt,
    claims.expireSeconds,
    document['TLS.userbuf'],
  );
  const expected = Buffer.from(hmac(options.secretKey, content), 'utf8');
  const actual = Buffer.from(document['TLS.sig'], 'utf8');
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
    throw new UserSigError('bad-signature', 'the UserSig was not signed with this secret key');
  }
  if ((options.now ?? Date.now()) >= claims.expiresAt) {
    throw new UserSigError('expired', 'the UserSig has expired; generate a new one');
  }
  return { userId: claims.userId, expiresAt: claims.expiresAt };
}
