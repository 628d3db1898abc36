/**
 * The bot on Deno: `deno run --allow-net --allow-env src/server.ts`, with the cloud's settings in the
 * environment (see `BotEnv`). It prints the URL it listens on; SIGTERM and SIGINT let answers in
 * progress finish first.
 */
import { detectTransport } from '@imbot/core';
import { type BotEnv, makeBot } from './bot.js';

/** The part of Deno's API this file uses (Deno's own types are not installed in the workspace). */
declare const Deno: {
  serve(
    options: { port: number; hostname: string; onListen(address: { port: number }): void },
    handler: (request: Request) => Promise<Response> | Response,
  ): { shutdown(): Promise<void> };
  env: { toObject(): Record<string, string> };
  addSignalListener(signal: 'SIGTERM' | 'SIGINT', listener: () => void): void;
  exit(code: number): never;
  version: { deno: string };
};

const env = Deno.env.toObject();
const { im, handler } = makeBot(env as unknown as BotEnv);
const server = Deno.serve(
  {
    port: Number(env.PORT ?? 3000),
    hostname: '127.0.0.1',
    onListen: ({ port }) =>
      console.log(
        `deno ${Deno.version.deno}: the bot sends over ${detectTransport()} and listens on http://127.0.0.1:${port}/im/webhook`,
      ),
  },
  (request) =>
    new URL(request.url).pathname === '/im/webhook'
      ? handler(request)
      : new Response('not found', { status: 404 }),
);

async function stop(): Promise<void> {
  await handler.close();
  await server.shutdown();
  await im.close();
  Deno.exit(0);
}
Deno.addSignalListener('SIGTERM', stop);
Deno.addSignalListener('SIGINT', stop);
