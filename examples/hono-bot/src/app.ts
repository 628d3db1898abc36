import { type BotPlatform, createFetchHandler, type FetchHandler } from '@imbot/core';
import { Hono } from 'hono';

export const BOT_ID = '@RBT#hono';

/**
 * A Hono app whose robot streams back what it is told. `createFetchHandler` is the web-standard
 * entry: it takes a `Request` and gives a `Response`, so the same handler serves Next.js route
 * handlers, Bun and Deno unchanged, and a Cloudflare Worker given its `ctx` (see examples/worker-bot).
 */
export function honoBot(platform: BotPlatform): { app: Hono; handler: FetchHandler } {
  const handler = createFetchHandler({
    platform,
    bots: [{ userId: BOT_ID, name: 'Hono bot' }],
    onMessage: async (message, reply) => {
      const stream = reply.stream();
      for (const word of `You said: ${message.text}. This answer streams through Hono.`.split(/(?<= )/))
        stream.write(word);
      await stream.end();
    },
  });
  const app = new Hono();
  // POST delivers webhooks; GET answers the health check (503 until the bot exists).
  app.all('/im/webhook', (c) => handler(c.req.raw));
  return { app, handler };
}
