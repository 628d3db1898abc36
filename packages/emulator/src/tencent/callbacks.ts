import { tencentCallbackSign } from '@imbot/core';

/** The cloud waits this long for an app to answer a callback. */
export const CALLBACK_TIMEOUT_MS = 2000;

export interface CallbackTarget {
  url: string;
  token?: string | undefined;
  sdkAppId: number;
}

/** One callback delivery and what the app answered. */
export interface CallbackResult {
  command: string;
  /** Where it was posted, without `Sign`. */
  url: string;
  body: Record<string, unknown>;
  /** HTTP status of the answer; absent when there was none. */
  status?: number;
  answer?: string;
  /** True when the app answered HTTP 200 with JSON, which is all the cloud asks of an after-event callback. */
  ok: boolean;
  error?: string;
  durationMs: number;
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
    url.searchParams.set('Sign', tencentCallbackSign(target.token, requestTime));
  }
  return url;
}

/** Posts one callback and waits at most 2 s for the answer, as the cloud does. */
export async function postCallback(
  target: CallbackTarget,
  command: string,
  optPlatform: string,
  body: Record<string, unknown>,
  nowMs: number,
): Promise<CallbackResult> {
  const url = callbackUrl(target, command, optPlatform, nowMs);
  const shown = new URL(url);
  shown.searchParams.delete('Sign');
  const started = performance.now();
  const result = { command, url: shown.toString(), body };
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(CALLBACK_TIMEOUT_MS),
    });
    const answer = await response.text();
    let json = false;
    try {
      JSON.parse(answer);
      json = true;
    } catch {}
    return {
      ...result,
      status: response.status,
      answer,
      ok: response.status === 200 && json,
      durationMs: performance.now() - started,
    };
  } catch (error) {
    const timedOut = (error as Error).name === 'TimeoutError';
    return {
      ...result,
      ok: false,
      error: timedOut ? `no answer within ${CALLBACK_TIMEOUT_MS} ms` : (error as Error).message,
      durationMs: performance.now() - started,
    };
  }
}
