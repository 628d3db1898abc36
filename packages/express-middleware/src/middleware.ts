import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  BotReceiver,
  type BotReceiverOptions,
  type EnsureBotsReport,
  type NodeRequestLike,
  receiveNodeRequest,
} from '@imbot/core';
import { methodNotAllowed, writeNodeAnswer } from '@imbot/core/receive';

export type { Concurrency, Reply } from '@imbot/core';

/** The options of `imbot()`: those of core's `BotReceiver` (see its fields). */
export type ImbotOptions = BotReceiverOptions;

/** A request handler to mount with `app.use()`, with the start-up report and a graceful stop. */
export interface ImbotRouter {
  (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void;
  /** Resolves with what `ensureBots` did once the bots exist and match; rejects if it failed for good. */
  readonly ready: Promise<EnsureBotsReport>;
  /**
   * Stops taking messages (503), lets running answers finish for up to `timeoutMs` (default 10 s),
   * then interrupts the rest, whose streams are closed with their closing calls.
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

/**
 * Express middleware for one cloud's bots: an entry into core's webhook pipeline. At creation it
 * checks every option (a bad one throws a `ValidationError` at once, before anything is sent) and
 * starts ensuring the bots. Its webhook route verifies each request, answers the cloud at once and
 * only then runs `onMessage`, one message at a time per conversation unless `concurrency` says
 * otherwise. Redeliveries, messages from the bots themselves and group messages that do not
 * @-mention a bot never reach the handler. Works with Express 4 and 5 and plain `node:http`.
 *
 * @example
 * const im = new TencentIm({ ..., callbackToken: process.env.TIM_CALLBACK_TOKEN });
 * app.use('/im', imbot({
 *   platform: im.platform,
 *   bots: [{ userId: '@RBT#helper', name: 'Helper' }],
 *   onMessage: async (message, reply) => reply.stream().end(`You said: ${message.text}`),
 * }));
 */
export function imbot(options: ImbotOptions): ImbotRouter {
  const receiver = new BotReceiver(options, imbot);
  const { pipeline } = receiver;
  const webhookPath = options.webhook?.path ?? '/webhook';
  const healthPath = options.healthPath ?? '/health';

  const router = ((req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === healthPath && req.method === 'GET') return writeNodeAnswer(res, receiver.health());
    if (path !== webhookPath) return next();
    if (req.method !== 'POST') return writeNodeAnswer(res, methodNotAllowed('POST'));
    void receiveNodeRequest(pipeline, req as IncomingMessage & NodeRequestLike, res);
  }) as ImbotRouter;

  Object.defineProperty(router, 'ready', { value: receiver.ready });
  router.close = (closeOptions) => pipeline.close(closeOptions);
  return router;
}
