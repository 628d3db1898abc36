/** The clouds wait this long for an app to answer a callback. */
export const CALLBACK_TIMEOUT_MS = 2000;

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
 * Posts one callback (JSON) to `url` and waits at most 2 s for the answer. The recorded URL leaves
 * out the query parameters named in `hidden` (signatures).
 */
export async function postCallback(
  url: URL,
  command: string,
  body: Record<string, unknown>,
  hidden: string[] = [],
): Promise<CallbackResult> {
  const shown = new URL(url);
  for (const name of hidden) shown.searchParams.delete(name);
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
