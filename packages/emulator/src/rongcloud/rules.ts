import { createHash } from 'node:crypto';

/**
 * The emulator's own statement of RongCloud's documented rules, written from the documents and not
 * taken from `@imbot/core`, so that a mistake made the same way in the client is caught here.
 */

/** A request's (and a callback's) `Signature`: hex SHA-1 of the App Secret, the nonce and the timestamp. */
export function signature(appSecret: string, nonce: string, timestamp: string | number): string {
  return createHash('sha1').update(`${appSecret}${nonce}${timestamp}`).digest('hex');
}

/** The code of the API's frequency limit (HTTP 429). */
export const FREQUENCY_LIMIT = 1008;

/** UTF-8 bytes of `text`, as the cloud measures its limits. */
export function bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}
