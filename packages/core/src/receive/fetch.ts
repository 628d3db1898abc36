import type { EnsureBotsReport } from '../bots/ensure.js';
import { ValidationError } from '../errors.js';
import { methodNotAllowed, type WebhookAnswer } from './answer.js';
import { readFetchRequest } from './body.js';
import type { MessageHandler } from './options.js';
import type { WebhookPipeline } from './pipeline.js';
import { BotReceiver, type BotReceiverOptions } from './receiver.js';

/** Keeps a promise's work alive after the response, where the platform would end it (a Worker's `ctx.waitUntil`). */
export type WaitUntil = (work: Promise<unknown>) => void;

/**
 * What a platform passes a handler beside the request: a Worker's `ctx` (`fetch(request, env, ctx)`),
 * or anything else with a `waitUntil`. Bun's `server` and Deno's `info`, which have none, are
 * accepted and ignored.
 */
export interface FetchContext {
  waitUntil?: WaitUntil | undefined;
}

/** A web-standard webhook handler, with the start-up report and a graceful stop. */
export interface FetchHandler {
  /**
   * Answers one request. A `context.waitUntil` (a Worker's `ctx`) is given the handling of its
   * messages, which goes on after the answer; it wins over the `waitUntil` option.
   */
  (request: Request, context?: FetchContext | object): Promise<Response>;
  /** Resolves with what `ensureBots` did once the bots exist and match; rejects if it failed for good. */
  readonly ready: Promise<EnsureBotsReport>;
  /** Stops taking messages (503), lets running answers finish for `timeoutMs` (default 10 s), then closes their streams. */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

/** What the web-standard entry needs besides the pipeline. */
export interface FetchEntry {
  /** The answer to GET: the receiver's health. Without it, GET is refused like any other method. */
  health?: (() => WebhookAnswer) | undefined;
  /** Replaces the pipeline's handler for this request's messages. */
  onMessage?: MessageHandler | undefined;
  /** Given the handling of the request's messages, which goes on after the response. */
  waitUntil?: WaitUntil | undefined;
}

/**
 * The web-standard entry into a pipeline, which every `Request` handler shares (the fetch handler,
 * the activity adapters' `handle`, the Chat SDK adapter): POST is a webhook (verified, answered at
 * once, handled after), GET the health check where there is one, anything else 405.
 */
export async function receiveFetchRequest(
  pipeline: WebhookPipeline,
  request: Request,
  entry: FetchEntry,
): Promise<Response> {
  if (request.method === 'GET' && entry.health) return toResponse(entry.health());
  if (request.method !== 'POST') return toResponse(methodNotAllowed(entry.health ? 'GET, POST' : 'POST'));
  try {
    const receipt = await pipeline.receive(
      await readFetchRequest(request, pipeline.bodyLimits),
      entry.onMessage,
    );
    entry.waitUntil?.(receipt.handled);
    return toResponse(receipt.answer);
  } catch (error) {
    return toResponse(pipeline.refuse(error));
  }
}

/** `createFetchHandler`'s options: a receiver's, and where work after the answer is kept alive. */
export interface FetchHandlerOptions extends BotReceiverOptions {
  /**
   * Given the handling of each request's messages, which goes on after the answer: Vercel's
   * `waitUntil` from `@vercel/functions`, or any platform's that ends work once a response is sent.
   * A Worker passes its `ctx` per request instead: `handler(request, ctx)`.
   */
  waitUntil?: WaitUntil | undefined;
}

/**
 * A `(request: Request, context?) => Promise<Response>` webhook handler for Hono, Next.js route
 * handlers, Bun, Deno and Cloudflare Workers, with the same options and guarantees as the Express
 * middleware: POST is a webhook (verified, answered at once, handled after), GET is the health check.
 * Where the platform ends work once the answer is sent, the handling goes to its `waitUntil`: the
 * option, or a Worker's `ctx` passed as the second argument.
 *
 * @example
 * const handler = createFetchHandler({ platform: im.platform, bots, onMessage });
 * app.all('/im/webhook', (c) => handler(c.req.raw));   // Hono
 * export default { fetch: (request, env, ctx) => handler(request, ctx) };   // a Cloudflare Worker
 */
export function createFetchHandler(options: FetchHandlerOptions): FetchHandler {
  if (options?.waitUntil !== undefined && typeof options.waitUntil !== 'function') {
    throw new ValidationError(
      'options.waitUntil',
      'must be a function (promise) => void, such as ctx.waitUntil',
    );
  }
  const receiver = new BotReceiver(options, createFetchHandler);
  const fallback = options.waitUntil;
  const health = () => receiver.health();
  const handler = ((request: Request, context?: FetchContext) => {
    // A Worker's ctx.waitUntil must be called on ctx.
    const waitUntil =
      typeof context?.waitUntil === 'function'
        ? (work: Promise<unknown>) => context.waitUntil?.(work)
        : fallback;
    return receiveFetchRequest(receiver.pipeline, request, { health, waitUntil });
  }) as FetchHandler;
  Object.defineProperty(handler, 'ready', { value: receiver.ready });
  handler.close = (closeOptions) => receiver.pipeline.close(closeOptions);
  return handler;
}

/** A webhook answer as a web-standard `Response`. */
export function toResponse(answer: WebhookAnswer): Response {
  return new Response(answer.body, { status: answer.status, headers: answer.headers });
}
