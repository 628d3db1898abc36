import type { EnsureBotsReport } from '../bots/ensure.js';
import type { WebhookAnswer } from './answer.js';
import { readFetchRequest } from './body.js';
import { BotReceiver, type BotReceiverOptions } from './receiver.js';

/** A web-standard webhook handler, with the start-up report and a graceful stop. */
export interface FetchHandler {
  (request: Request): Promise<Response>;
  /** Resolves with what `ensureBots` did once the bots exist and match; rejects if it failed for good. */
  readonly ready: Promise<EnsureBotsReport>;
  /** Stops taking messages (503), lets running answers finish for `timeoutMs` (default 10 s), then closes their streams. */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

/**
 * A `(request: Request) => Promise<Response>` webhook handler for Hono, Next.js route handlers,
 * Bun, Deno and worker runtimes, with the same options and guarantees as the Express middleware:
 * POST is a webhook (verified, answered at once, handled after), GET is the health check.
 *
 * @example
 * const handler = createFetchHandler({ platform: im.platform, bots, onMessage });
 * app.all('/im/webhook', (c) => handler(c.req.raw));   // Hono
 */
export function createFetchHandler(options: BotReceiverOptions): FetchHandler {
  const receiver = new BotReceiver(options);
  const { pipeline } = receiver;
  const handler = (async (request: Request): Promise<Response> => {
    if (request.method === 'GET') return toResponse(receiver.health());
    if (request.method !== 'POST') {
      return new Response(
        JSON.stringify({ error: 'METHOD_NOT_ALLOWED', message: 'the webhook takes POST only' }),
        {
          status: 405,
          headers: { allow: 'GET, POST', 'content-type': 'application/json' },
        },
      );
    }
    try {
      return toResponse(
        (await pipeline.receive(await readFetchRequest(request, pipeline.bodyLimits))).answer,
      );
    } catch (error) {
      return toResponse(pipeline.refuse(error));
    }
  }) as FetchHandler;
  Object.defineProperty(handler, 'ready', { value: receiver.ready });
  handler.close = (closeOptions) => pipeline.close(closeOptions);
  return handler;
}

/** A webhook answer as a web-standard `Response`. */
export function toResponse(answer: WebhookAnswer): Response {
  return new Response(answer.body, { status: answer.status, headers: answer.headers });
}
