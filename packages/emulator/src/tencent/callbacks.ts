import { type CallbackResult, postCallback } from '../callbacks.js';
import { callbackSign } from './rules.js';

export interface CallbackTarget {
  url: string;
  token?: string | undefined;
  sdkAppId: number;
}

/**
 * The URL the cloud posts a callback to: the app's URL plus `SdkAppid`, `CallbackCommand`,
 * `contenttype`, `ClientIP`, `OptPlatform`, and, when a token is set, `RequestTime` and `Sign`.
 */
export function callbackUrl(
  target: CallbackTarget,
  command: string,
  optPlatform: string,
  nowMs: number,
): URL {
  const url = new URL(target.url);
  url.searchParams.set('SdkAppid', String(target.sdkAppId));
  url.searchParams.set('CallbackCommand', command);
  url.searchParams.set('contenttype', 'json');
  url.searchParams.set('ClientIP', '127.0.0.1');
  url.searchParams.set('OptPlatform', optPlatform);
  if (target.token) {
    const requestTime = Math.floor(nowMs / 1000);
    url.searchParams.set('RequestTime', String(requestTime));
    url.searchParams.set('Sign', callbackSign(target.token, requestTime));
  }
  return url;
}

/** Posts one robot callback to the app and waits at most 2 s for its answer, as the cloud does. */
export function postTencentCallback(
  target: CallbackTarget,
  command: string,
  optPlatform: string,
  body: Record<string, unknown>,
  nowMs: number,
): Promise<CallbackResult> {
  const url = callbackUrl(target, command, optPlatform, nowMs);
  return postCallback(url, command, body, ['Sign']);
}
