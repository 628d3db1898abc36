/**
 * The bot on Bun: `bun src/server.ts`, with the cloud's settings in the environment (see `BotEnv`).
 * It prints the URL it listens on; SIGTERM and SIGINT let answers in progress finish first.
 */
import { detectTransport } from '@imbot/core';
import { type BotEnv, makeBot } from './bot.js';

/** The part of Bun's API this file uses (Bun's own types are not installed in the workspace). */
declare const Bun: {
  serve(options: { port: number; hostname: string; fetch(request: Request): Promise<Response> | Response }): {
    port: number;
    stop(): Promise<void>;
  };
  version: string;
};

const { im, handler } = makeBot(process.env as unknown as BotEnv);
const server = Bun.serve({
  port: Number(process.env.PORT ?? 3000),
  hostname: '127.0.0.1',
  fetch: (request) =>
    new URL(request.url).pathname === '/im/webhook'
      ? handler(request)
      : new Response('not found', { status: 404 }),
});
console.log(
  `bun ${Bun.version}: the bot sends over ${detectTransport()} and listens on http://127.0.0.1:${server.port}/im/webhook`,
);

async function stop(): Promise<void> {
  await handler.close();
  await server.stop();
  await im.close();
  process.exit(0);
}
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
