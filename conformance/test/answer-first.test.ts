/**
 * Every entry answers the cloud before it runs the handler or turn: a turn that blocks the event loop
 * for a second must not delay the answer. The cloud runs in a process of its own, so the blocked loop of
 * this one cannot slow its clock.
 */
import { execFile } from 'node:child_process';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { serve } from '@hono/node-server';
import { ImbotAgentsAdapter } from '@imbot/agents-adapter';
import { ImBotAdapter } from '@imbot/botframework-adapter';
import { type BotPlatform, createFetchHandler, RongCloud, TencentIm } from '@imbot/core';
import { type Emulator, startEmulator } from '@imbot/emulator';
import { imbot } from '@imbot/express-middleware';
import express from 'express';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clouds, RONG, TENCENT, TOKEN } from './callbacks.js';

let emulator: Emulator;
let im: TencentIm;
let rong: RongCloud;
const servers: Server[] = [];

beforeAll(async () => {
  emulator = await startEmulator({ tencent: TENCENT, rongcloud: RONG });
  im = new TencentIm({ ...TENCENT, baseUrl: emulator.url, callbackToken: TOKEN });
  rong = new RongCloud({ ...RONG, baseUrl: emulator.url });
});
afterAll(async () => {
  for (const server of servers) server.closeAllConnections();
  await im.close();
  await rong.close();
  await emulator.close();
});

const platforms = { tencent: () => im.platform, rongcloud: () => rong.platform } satisfies Record<
  string,
  () => BotPlatform
>;

/** How long the turn blocks the event loop: an answer that waited for the turn takes at least this. */
const BLOCK_MS = 1000;

/** Blocks this process's event loop for `BLOCK_MS`, as a slow synchronous turn would. */
function block(): void {
  const until = performance.now() + BLOCK_MS;
  while (performance.now() < until) {
    // synchronous work
  }
}

async function listen(server: Server): Promise<string> {
  servers.push(server);
  if (!server.listening) await new Promise((resolve) => server.once('listening', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/im/webhook`;
}

/** Each entry, serving /im/webhook with a handler that records its message and blocks. */
const entries: Record<string, (platform: BotPlatform, bot: string, ran: string[]) => Promise<string>> = {
  express: async (platform, bot, ran) => {
    const router = imbot({
      platform,
      bots: [{ userId: bot }],
      onMessage: (m) => {
        ran.push(m.text);
        block();
      },
    });
    await router.ready;
    return listen(express().use('/im', router).listen(0, '127.0.0.1'));
  },
  fetch: async (platform, bot, ran) => {
    const handler = createFetchHandler({
      platform,
      bots: [{ userId: bot }],
      onMessage: (m) => {
        ran.push(m.text);
        block();
      },
    });
    await handler.ready;
    return listen(
      serve({
        fetch: new Hono().all('/im/webhook', (c) => handler(c.req.raw)).fetch,
        port: 0,
        hostname: '127.0.0.1',
      }) as Server,
    );
  },
  'Bot Framework adapter': async (platform, _bot, ran) => {
    const adapter = new ImBotAdapter({ platform });
    return listen(
      express()
        .post('/im/webhook', (req, res) =>
          adapter.process(req, res, async (c) => {
            ran.push(c.activity.text);
            block();
          }),
        )
        .listen(0, '127.0.0.1'),
    );
  },
  'Agents SDK adapter': async (platform, _bot, ran) => {
    const adapter = new ImbotAgentsAdapter({ platform });
    return listen(
      express()
        .post('/im/webhook', (req, res) =>
          adapter.process(req, res, async (c) => {
            ran.push(c.activity.text ?? '');
            block();
          }),
        )
        .listen(0, '127.0.0.1'),
    );
  },
};

const cloudScript = `
  const started = performance.now();
  const response = await fetch(process.argv[1], { method: 'POST', body: process.argv[2] });
  await response.text();
  console.log(JSON.stringify({ status: response.status, ms: performance.now() - started }));`;

describe.each(
  Object.keys(entries).flatMap(
    (name) =>
      [
        [name, 'tencent'],
        [name, 'rongcloud'],
      ] as const,
  ),
)('%s on %s', (name, cloud) => {
  it('answers before a turn that blocks the event loop runs', async () => {
    const ran: string[] = [];
    const start = entries[name] as (platform: BotPlatform, bot: string, ran: string[]) => Promise<string>;
    const url = await start(platforms[cloud](), clouds[cloud].bot, ran);
    const query = clouds[cloud].query();
    const body = clouds[cloud].body('block');
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--input-type=module',
      '-e',
      cloudScript,
      `${url}?${query}`,
      body,
    ]);
    const answer = JSON.parse(stdout) as { status: number; ms: number };
    expect(answer.status).toBe(200);
    // Answered before the blocked turn could have ended: not a speed limit, an order.
    expect(answer.ms).toBeLessThan(BLOCK_MS);
    // The turn did run, after the answer.
    await expect.poll(() => ran).toEqual(['block']);
  }, 20_000);
});
