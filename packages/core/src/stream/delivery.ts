import { ImbotError, isTransient, outcomeUnknown, TimeoutError } from '../errors.js';
import type { TurnPermit } from '../limits/turn-permit.js';
import type { EndReason, StreamTransport } from './transport.js';

/**
 * How a session's calls are settled when they fail, in one place. `readBacks`: calls of unknown
 * outcome settled by reading the cloud back before the session stops streaming. `waitAfterTimeoutMs`:
 * after a call's deadline passed the cloud may still be applying it, so the read-back waits this
 * long first, to see what a slow cloud did rather than judge a call not applied that lands later.
 * `closeAttempts`: the closing call after a failure is tried this often while its failures are
 * transient, so the user is not left with a message that never ends.
 */
export interface DeliveryPolicy {
  readBacks: number;
  waitAfterTimeoutMs: number;
  closeAttempts: number;
}

export const defaultDeliveryPolicy: DeliveryPolicy = {
  readBacks: 8,
  waitAfterTimeoutMs: 2000,
  closeAttempts: 5,
};

/**
 * What became of a call. `delivered`: the cloud applied it (it answered, or a read-back found it
 * applied; `messageId` is the message it went to). `unsent`: a read-back found it not applied, so its
 * chunk goes again in the next call. `failed`: it failed for good; `again` says whether a closing
 * call after a failure is worth another try.
 */
export type CallOutcome =
  | { kind: 'delivered'; messageId: string }
  | { kind: 'unsent' }
  | { kind: 'failed'; error: ImbotError; again: boolean };

/** `error` as an `ImbotError`, so that `error` events and `finish` always carry one. */
export function asImbotError(error: unknown): ImbotError {
  return error instanceof ImbotError
    ? error
    : new ImbotError('STREAM_FAILED', `streaming failed: ${(error as Error)?.message ?? String(error)}`);
}

/**
 * The at-most-once rule of one session's calls: a chunk whose answer was lost is never sent twice
 * blindly. When a call's outcome is unknown (the cloud may have applied it and the answer was lost),
 * the transport reads back what the cloud holds: applied, the call counts as delivered (a lost
 * opening call with the message it opened); not applied, its chunk goes in the next call. Either way
 * the user sees one message with its text once. Any other failure, or a read-back that cannot tell,
 * is a failure for good. The session asks one question, `send`, and gets a `CallOutcome`.
 *
 * The wait before a read-back, and any wait of the read-back itself, is cut short by `hurry()` (the
 * session was aborted), so an aborted session finishes promptly.
 */
export class Delivery {
  readonly #transport: StreamTransport;
  readonly #policy: DeliveryPolicy;
  #readBacks = 0;
  #closeAttempts = 0;
  /** Aborted by `hurry()`: ends the wait before a read-back, now and from then on. */
  readonly #hurry = new AbortController();

  constructor(transport: StreamTransport, policy: DeliveryPolicy = defaultDeliveryPolicy) {
    this.#transport = transport;
    this.#policy = policy;
  }

  /**
   * Sends `chunk` (the closing call of the message when `final`), spending the turn's `permit`, and
   * settles what became of it. `recovering`: it is the closing call after a failure, which is never
   * read back (it carries the failed chunk anyway) and is tried again while its failures are transient.
   */
  async send(
    chunk: string,
    final: boolean,
    end: EndReason | undefined,
    permit: TurnPermit,
    recovering: boolean,
  ): Promise<CallOutcome> {
    let messageId: string;
    try {
      ({ messageId } = await this.#transport.send(chunk, final, end, permit));
    } catch (error) {
      // A call that failed before it reached the budget frees the permit before any read-back.
      permit.drop();
      return recovering ? this.failed(error, true) : this.#lost(error);
    }
    permit.drop();
    return { kind: 'delivered', messageId };
  }

  /** Ends the wait before a read-back (now and later): the session is closing and will not wait. */
  hurry(): void {
    this.#hurry.abort();
  }

  async #lost(error: unknown): Promise<CallOutcome> {
    const readBack = this.#transport.readBack;
    if (!readBack || !outcomeUnknown(error) || this.#readBacks >= this.#policy.readBacks) {
      return this.failed(error, false);
    }
    this.#readBacks++;
    try {
      if (error instanceof TimeoutError) await this.#waitForSlowCloud();
      const verdict = await readBack.call(this.#transport, this.#hurry.signal);
      if (!verdict) return this.failed(error, false);
      return verdict.applied ? { kind: 'delivered', messageId: verdict.messageId } : { kind: 'unsent' };
    } catch {
      return this.failed(error, false);
    }
  }

  /** The wait before reading back a call whose deadline passed; over at once once hurried. */
  #waitForSlowCloud(): Promise<void> {
    const signal = this.#hurry.signal;
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, this.#policy.waitAfterTimeoutMs);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /**
   * A call that failed for good, or was never made (the limiter refused it). `recovering`: it was the
   * closing call after a failure, tried again while its failures are transient and tries are left.
   */
  failed(cause: unknown, recovering: boolean): CallOutcome & { kind: 'failed' } {
    const error = asImbotError(cause);
    if (!recovering) return { kind: 'failed', error, again: false };
    this.#closeAttempts++;
    return {
      kind: 'failed',
      error,
      again: isTransient(error) && this.#closeAttempts < this.#policy.closeAttempts,
    };
  }
}
