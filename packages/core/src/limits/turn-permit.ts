import type { RateLimitPermit } from './rate-limiter.js';

/**
 * A budget permit handed explicitly to the one call a turn makes (a stream's chunk, a typing
 * signal), travelling with that call down to the request layer instead of waiting in an ambient slot
 * for whoever asks first. Whatever lies on the way (a journal, a sequence, an `await`), the call
 * spends this permit and takes no second one.
 *
 * One-shot: the call's first attempt takes it; a later attempt (a retry, a sequence number tried
 * again) finds it spent and waits for the limiter as any call does. The holder drops it once the
 * call settled, which frees it if no attempt took it (the call failed before it reached the budget).
 */
export class TurnPermit {
  #permit: RateLimitPermit | undefined;

  constructor(permit: RateLimitPermit) {
    this.#permit = permit;
  }

  /** The permit, for the first attempt that asks; undefined from then on. */
  take(): RateLimitPermit | undefined {
    const permit = this.#permit;
    this.#permit = undefined;
    return permit;
  }

  /** Frees the permit if no attempt took it; does nothing otherwise. */
  drop(): void {
    this.take()?.release();
  }
}
