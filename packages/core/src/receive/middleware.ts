import { ImbotError } from '../errors.js';
import type { Logger } from '../observe/logger.js';
import type { BotPlatform } from '../platform.js';
import type { AnswerRun, ReceivedMessage } from './answer-run.js';

/**
 * What a middleware sees of one user message on its way to the handler: the message, the reply
 * (usable at once, before the handler's turn), the platform, and the answers running now.
 */
export interface ReceiveContext {
  readonly message: ReceivedMessage;
  /** The bot's answer to the message: its `Reply`, the streams it opens, and how it is interrupted. */
  readonly reply: AnswerRun;
  readonly platform: BotPlatform;
  /** The logger the receiver writes to (silent unless one was given or failures need reporting). */
  readonly logger: Logger;
  /** The answers being written now, across the receiver's conversations (a stop looks here). */
  running(): Iterable<AnswerRun>;
  /** Reports a failure about this message to the receiver's logger and `onError`. */
  report(error: unknown): void;
  /**
   * Sets the body of the answer to the cloud's request in place of the platform's usual one: for
   * a callback whose answer carries a result (a signal's `RspData`). Decide before calling `next`.
   */
  respond(body: string): void;
}

/**
 * One step of receiving, as in grammY or Koa: it may act on the message, answer it, or drop it by
 * not calling `next`. A receiver's middleware runs when a message arrives, in order: the built-in
 * stop and button checks first, then `use`, then the message waits for its conversation's turn,
 * where the typing signal starts and the handler runs. The cloud is answered once every message of
 * its request has reached its turn or been dropped, so a middleware should decide quickly.
 *
 * @example
 * const blocked: Middleware = (ctx, next) => (ctx.message.from === 'mallory' ? undefined : next());
 * app.use('/im', imbot({ platform, bots, onMessage, use: [blocked] }));
 */
export type Middleware = (context: ReceiveContext, next: () => Promise<void>) => unknown;

/**
 * The middleware in `list` run in order over one context, `last` after them all. Calling `next`
 * twice from one middleware is a mistake and rejects.
 */
export function compose(
  list: readonly Middleware[],
  last: (context: ReceiveContext) => Promise<void>,
): (context: ReceiveContext) => Promise<void> {
  return (context) => {
    let reached = -1;
    const step = async (index: number): Promise<void> => {
      if (index <= reached) throw new ImbotError('MIDDLEWARE_MISUSED', 'a middleware called next() twice');
      reached = index;
      const middleware = list[index];
      if (!middleware) return last(context);
      await middleware(context, () => step(index + 1));
    };
    return step(0);
  };
}
