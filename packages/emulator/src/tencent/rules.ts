import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { inflateSync } from 'node:zlib';

/**
 * The emulator's own statement of Tencent Cloud Chat's documented rules, written from the documents
 * and not taken from `@imbot/core`: a mistake made the same way in the client and in the cloud it is
 * tested against would otherwise pass unseen.
 */

/** Robot accounts start with this. */
export const ROBOT_PREFIX = '@RBT#';
/** A robot's UserID is at most 32 bytes (UTF-8). */
export const ROBOT_ID_MAX_BYTES = 32;
/** Nick, FaceUrl and SelfSignature are at most 500 bytes each. */
export const PROFILE_FIELD_MAX_BYTES = 500;
/** One message (`sendmsg`, a robot stream) is at most 12 KB. */
export const MESSAGE_MAX_BYTES = 12 * 1024;
/** An app has at most 20 robots (error 10008 past it). */
export const ROBOTS_PER_APP = 20;
/** A group message @-mentions at most 30 members. */
export const GROUP_AT_MAX = 30;
/** `add_group_member` and `delete_group_member` take at most 300 accounts a call. */
export const GROUP_MEMBERS_PER_CALL = 300;
/** The code of the REST API's frequency limit. */
export const FREQUENCY_LIMIT = 60007;
/**
 * The code of a group's message frequency limit (40 a second in one group): "发消息的频率超限，请延长
 * 两次发消息时间的间隔", the group service's error table (web.sdk.qcloud.com tim-error-message).
 */
export const GROUP_FREQUENCY_LIMIT = 10023;

/** UTF-8 bytes of `text`, as the cloud measures its limits. */
export function bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** Why the cloud refuses a UserSig, by its documented code. */
export type UserSigRefusal = { code: 70003 | 70009 | 70014 | 70001; info: string };

/**
 * Checks a UserSig as the cloud does (TLSSigAPIv2): base64 with `*`, `-`, `_` for `+`, `/`, `=`,
 * zlib-deflated JSON carrying `TLS.ver`, `TLS.identifier`, `TLS.sdkappid`, `TLS.time`, `TLS.expire`,
 * an optional `TLS.userbuf` and `TLS.sig`, the base64 HMAC-SHA256 under the secret key of the lines
 * `TLS.identifier:…`, `TLS.sdkappid:…`, `TLS.time:…`, `TLS.expire:…` (and `TLS.userbuf:…` when it
 * carries one), each ending in a newline. Returns the user it was made for, or the refusal.
 */
export function checkUserSig(
  userSig: string,
  app: { sdkAppId: number; secretKey: string },
  nowMs: number,
): { userId: string } | UserSigRefusal {
  let doc: Record<string, unknown>;
  try {
    const base64 = userSig.replace(/\*/g, '+').replace(/-/g, '/').replace(/_/g, '=');
    doc = JSON.parse(inflateSync(Buffer.from(base64, 'base64')).toString('utf8')) as Record<string, unknown>;
  } catch {
    return { code: 70003, info: 'the UserSig could not be decoded' };
  }
  const identifier = doc['TLS.identifier'];
  const sdkAppId = doc['TLS.sdkappid'];
  const time = doc['TLS.time'];
  const expire = doc['TLS.expire'];
  const sig = doc['TLS.sig'];
  const userbuf = doc['TLS.userbuf'];
  if (
    typeof identifier !== 'string' ||
    typeof sdkAppId !== 'number' ||
    typeof time !== 'number' ||
    typeof expire !== 'number' ||
    typeof sig !== 'string' ||
    (userbuf !== undefined && typeof userbuf !== 'string')
  ) {
    return { code: 70003, info: 'the UserSig lacks one of its fields' };
  }
  if (sdkAppId !== app.sdkAppId) return { code: 70014, info: 'the UserSig was made for another SDKAppID' };
  let content = `TLS.identifier:${identifier}\nTLS.sdkappid:${sdkAppId}\nTLS.time:${time}\nTLS.expire:${expire}\n`;
  if (userbuf !== undefined) content += `TLS.userbuf:${userbuf}\n`;
  const expected = createHmac('sha256', app.secretKey).update(content).digest();
  const given = Buffer.from(sig, 'base64');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { code: 70009, info: 'the UserSig does not verify with this app' };
  }
  if (nowMs / 1000 > time + expire) return { code: 70001, info: 'the UserSig has expired' };
  return { userId: identifier };
}

/** A callback's `Sign`: the hex SHA-256 of the callback token followed by `RequestTime`. */
export function callbackSign(token: string, requestTime: number): string {
  return createHash('sha256').update(`${token}${requestTime}`).digest('hex');
}
