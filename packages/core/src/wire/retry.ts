import { setTimeout as sleep } from 'node:timers/promises';
import { CloudApiError, isTransient, outcomeUnknown } from '../errors.js';

/**
 * How a call may be retried. `idempotent`: sending it twice does no harm, so any transient failure
 * is retried. `unapplied`: sending it twice could duplicate something, so it is retried only when the
 * cloud certainly did not carry it out: it refused it with a retryable code, answered HTTP 429/503,
 * or the connection failed before the request was written. A timeout, a reset connection, a 502/504
 * or a garbled answer leave the outcome unknown, and surface as errors instead.
 */
export type RetryMode = 'idempotent' | 'unapplied';

/**
 * The retry rule shared by the clients: a cloud's own error code is retried when its table says so
 * (the cloud refused the call, so it was not applied); other failures as `mode` allows.
 */
export function retryDecision(error: unknown, mode: RetryMode): RetryDecision {
  if (error instanceof CloudApiError) return error.retryable ? 'retry' : 'stop';
  if (!isTransient(error)) return 'stop';
  return mode === 'idempotent' || !outcomeUnknown(error) ? 'retry' : 'stop';
}

/** How often and how patiently a failed call is sent again. */
export interface RetryPolicy {
  /** Further attempts after the first; 0 disables retries. */
  retries: number;
  /** The cap of the first backoff; each later attempt doubles it. */
  minDelayMs: number;
  /** No backoff is longer than this. */
  maxDelayMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { retries: 3, minDelayMs: 100, maxDelayMs: 5_000 };

/**
 * Delay before retry number `attempt` (0-based): "full jitter", a uniform draw between zero and the
 * exponential cap, which spreads clients that failed together instead of syncing them up again.
 */
export function backoffDelay(
  attempt: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  const cap = Math.min(policy.maxDelayMs, policy.minDelayMs * 2 ** attempt);
  return Math.floor(random() * cap);
}

/**
 * What to do after a failure: `retry` to go again after the policy's backoff, `again` to go again
 * at once without spending a retry (the failure was repaired, e.g. a renewed credential; granted once
 * per call, a second `again` throws), or `stop` to throw it.
 */
export type RetryDecision = 'retry' | 'again' | 'stop';

/**
 * Runs `attempt` until it succeeds, `decide` says stop, or the policy's retries are spent; then the
 * last error is thrown. Retrying lives here, as one layer around a call, not in `try` blocks scattered
 * through the clients.
 */
export async function withRetry<T>(
  attempt: (n: number) => Promise<T>,
  decide: (error: unknown, n: number) => RetryDecision,
  policy: RetryPolicy,
  options: { signal?: AbortSignal | undefined; random?: () => number } = {},
): Promise<T> {
  try {
    return await attempt(0);
  } catch (error) {
    return retryAfter(error, attempt, decide, policy, options);
  }
}

/**
 * The retries after a failed first attempt (`attempt(0)` threw `first`): for a caller that makes the
 * first attempt itself, so that a call that succeeds at once allocates nothing for retrying.
 */
export async function retryAfter<T>(
  first: unknown,
  attempt: (n: number) => Promise<T>,
  decide: (error: unknown, n: number) => RetryDecision,
  policy: RetryPolicy,
  options: { signal?: AbortSignal | undefined; random?: () => number },
): Promise<T> {
  let retries = 0;
  let repaired = false;
  let error = first;
  for (let n = 0; ; n++) {
    if (n > 0) {
      try {
        return await attempt(n);
      } catch (failure) {
        error = failure;
      }
    }
    const decision = decide(error, n);
    if (decision === 'stop' || (decision === 'again' && repaired)) throw error;
    if (decision === 'again') repaired = true;
    else {
      if (retries >= policy.retries) throw error;
      const delay = backoffDelay(retries, policy, options.random);
      retries++;
      if (delay > 0) await sleep(delay, undefined, { signal: options.signal });
    }
  }
}
