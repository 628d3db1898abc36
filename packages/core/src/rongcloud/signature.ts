import { createHash, randomFillSync } from 'node:crypto';

/**
 * RongCloud's request signature: hex SHA-1 of the App Secret followed by the nonce and the
 * timestamp (a plain digest, not an HMAC), in lowercase as every official SDK sends it. Callbacks
 * are signed the same way.
 */
export function signRongCloud(options: {
  appSecret: string;
  nonce: string;
  timestamp: string | number;
}): string {
  return createHash('sha1').update(`${options.appSecret}${options.nonce}${options.timestamp}`).digest('hex');
}

/** Random bytes drawn from the system's CSPRNG 8 KiB at a time, 8 per nonce. */
const noncePool = Buffer.alloc(8 * 1024);
let nonceOffset = noncePool.length;

/** A nonce as RongCloud wants it: random, at most 18 characters (16 hex digits). */
export function rongCloudNonce(): string {
  if (nonceOffset === noncePool.length) {
    randomFillSync(noncePool);
    nonceOffset = 0;
  }
  nonceOffset += 8;
  return noncePool.toString('hex', nonceOffset - 8, nonceOffset);
}

/**
 * The four headers that authenticate one request, freshly signed: `App-Key`, `Nonce`, `Timestamp`
 * (milliseconds, as the documents say) and `Signature`.
 */
export function rongCloudHeaders(options: {
  appKey: string;
  appSecret: string;
  now?: number;
  nonce?: string;
}): Record<string, string> {
  const nonce = options.nonce ?? rongCloudNonce();
  const timestamp = String(options.now ?? Date.now());
  return {
    'App-Key': options.appKey,
    Nonce: nonce,
    Timestamp: timestamp,
    Signature: signRongCloud({ appSecret: options.appSecret, nonce, timestamp }),
  };
}
