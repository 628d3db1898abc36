import { createHash } from 'node:crypto';

/**
 * The `Sign` of a callback when a token is configured: hex SHA-256 of the token followed by
 * `RequestTime` (seconds), a plain digest rather than an HMAC, as the cloud computes it.
 */
export function tencentCallbackSign(token: string, requestTime: number | string): string {
  return createHash('sha256').update(`${token}${requestTime}`).digest('hex');
}
