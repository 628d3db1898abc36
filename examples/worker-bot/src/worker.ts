/**
 * The bot as a Cloudflare Worker: `wrangler dev` runs it locally on workerd, `wrangler deploy` on
 * Cloudflare. Its settings are the Worker's vars and secrets (see `BotEnv`; `wrangler.toml`).
 *
 * A Worker can do no I/O outside a request, and its globals live as long as its isolate: the bot is
 * made on the first request and kept for the next ones. The webhook's handling goes to
 * `ctx.waitUntil`, so the cloud has its answer first and the streamed reply is not cut off.
 */
import type { FetchHandler } from '@imbot/core';
import { type BotEnv, makeBot } from './bot.js';

/** The part of a Worker's `ExecutionContext` this file uses. */
interface ExecutionContext {
  waitUntil(work: Promise<unknown>): void;
}

let bot: { handler: FetchHandler } | undefined;

export default {
  fetch(request: Request, env: BotEnv, ctx: ExecutionContext): Promise<Response> | Response {
    if (!bot) {
      bot = makeBot(env);
      // Ensuring the bot exists is work of this first request: kept alive past its answer.
      ctx.waitUntil(bot.handler.ready.catch(() => undefined));
    }
    if (new URL(request.url).pathname !== '/im/webhook') return new Response('not found', { status: 404 });
    return bot.handler(request, ctx);
  },
};
