import * as z from 'zod';
import { type EnsureBotsReport, ensureBotsAtStartup, validateBotSpecs } from '../bots/ensure.js';
import { type Entry, thrownAt, ValidationError } from '../errors.js';
import type { BotSpec } from '../platform.js';
import { parseInput } from '../validation.js';
import type { WebhookAnswer } from './answer.js';
import { receiveOptionsShape, type WebhookPipelineOptions } from './options.js';
import { WebhookPipeline } from './pipeline.js';

export interface BotReceiverOptions extends Omit<WebhookPipelineOptions, 'bots'> {
  /** The app's bots: made to exist and match at start-up. Only messages to them are handled. */
  bots: BotSpec[];
  /** `prune`: delete the app's undeclared bots at start-up. `retries` of transient failures (default 8). */
  ensure?: { prune?: boolean; retries?: number } | undefined;
  /** Path of the health route, where the entry routes requests itself. Default `/health`. */
  healthPath?: string | undefined;
}

const receiverOptions = z.object({
  ...receiveOptionsShape,
  bots: z.array(z.unknown()).min(1, 'declare at least one bot: [{ userId, name }]'),
  onMessage: z.custom<unknown>((v) => typeof v === 'function', 'must be a function (message, reply) => …'),
  healthPath: z.string().regex(/^\//, 'must start with "/", like "/health"').optional(),
  ensure: z
    .strictObject({ prune: z.boolean().optional(), retries: z.number().int().min(0).optional() })
    .optional(),
});

type Phase = 'starting' | 'ready' | 'failed';

/**
 * A promise that knows whether the app has asked for its outcome: `await`, `then`, `catch` and
 * `finally` all go through `then` on a promise of a subclass. Promises derived from it are plain.
 */
class WatchedPromise<T> extends Promise<T> {
  observed = false;

  static override get [Symbol.species](): PromiseConstructor {
    return Promise;
  }

  // biome-ignore lint/suspicious/noThenProperty: a promise subclass, thenable on purpose: its `then` notes that the app asked.
  override then<A = T, B = never>(
    onFulfilled?: ((value: T) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    this.observed = true;
    return super.then(onFulfilled, onRejected);
  }
}

/**
 * A bot app's receiving side, whatever serves it: its bots are checked at once and ensured at
 * start-up (transient failures retried), its health says whether they are, and its webhooks go
 * through one `WebhookPipeline`. `imbot()` (Express) and `createFetchHandler()` are entries into it.
 */
export class BotReceiver {
  readonly pipeline: WebhookPipeline;
  /** Resolves with what `ensureBots` did once the bots exist and match; rejects if it failed for good. */
  readonly ready: Promise<EnsureBotsReport>;
  #phase: Phase = 'starting';
  #report: EnsureBotsReport | undefined;
  #failure: Error | undefined;

  /** Validates everything first (a `ValidationError` names the option; nothing is sent), then starts. */
  /**
   * `entry` is the function the app called (`createFetchHandler`, `imbot`): a `ValidationError`'s
   * stack starts at the app's call of it.
   */
  constructor(options: BotReceiverOptions, entry: Entry = BotReceiver) {
    parseInput(receiverOptions, options, 'options', entry);
    let bots: ReturnType<typeof validateBotSpecs>;
    try {
      bots = validateBotSpecs(options.platform, options.bots);
    } catch (error) {
      throw thrownAt(error, entry);
    }
    this.pipeline = new WebhookPipeline({ ...options, bots: bots.map((b) => b.userId) });
    const ensured = ensureBotsAtStartup(options.platform, bots, options.ensure).then(
      (result) => {
        this.#phase = 'ready';
        this.#report = result;
        this.pipeline.logger?.info({ bots: result }, 'imbot: bots ready');
        return result;
      },
      (error: unknown) => {
        this.#phase = 'failed';
        this.#failure = error instanceof Error ? error : new ValidationError('bots', String(error));
        // An app that awaits `ready` gets the failure there (and Node prints it if it goes
        // unhandled): logged here as well, it would be printed twice.
        this.pipeline.report(this.#failure, undefined, { quiet: ready.observed });
        throw error;
      },
    );
    const ready = new WatchedPromise<EnsureBotsReport>((resolve, reject) => {
      ensured.then(resolve, reject);
    });
    // The app may never await `ready`; its failure has been reported above. (The original `then`,
    // so that this does not count as the app's.)
    Promise.prototype.then.call(ready, undefined, () => undefined);
    this.ready = ready;
  }

  /** 200 with what was ensured once the bots are ready; 503 while starting, failed or closing. */
  health(): WebhookAnswer {
    const closing = this.pipeline.closing;
    const headers = { 'content-type': 'application/json' };
    if (this.#phase === 'ready' && !closing)
      return { status: 200, headers, body: JSON.stringify({ status: 'ready', bots: this.#report }) };
    const status = closing ? 'closing' : this.#phase;
    const failure = this.#phase === 'failed' ? { error: this.#failure?.message } : {};
    return { status: 503, headers, body: JSON.stringify({ status, ...failure }) };
  }
}
