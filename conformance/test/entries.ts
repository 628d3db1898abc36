/**
 * Every entry into the webhook pipeline, each serving `/im/webhook` on loopback and recording the
 * text each message reached its handler (or turn, or Chat SDK handler) with: the Express middleware,
 * the Bot Framework and Agents SDK adapters, the web-standard handler in Hono, and the Chat SDK
 * adapter. The conformance tests send them the same requests and expect the same behaviour.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMemoryState } from '@chat-adapter/state-memory';
import { serve } from '@hono/node-server';
import { ImbotAgentsAdapter } from '@imbot/agents-adapter';
import { ImBotAdapter } from '@imbot/botframework-adapter';
import { createImbotAdapter } from '@imbot/chat-adapter';
import { type BotPlatform, createFetchHandler, type ReceiveOptions } from '@imbot/core';
import { imbot } from '@imbot/express-middleware';
import { Chat } from 'chat';
import express from 'express';
import { Hono } from 'hono';

export interface Entry {
  origin: string;
  /** The texts that reached the handler, in order. */
  handled: string[];
  close(): Promise<void>;
}

/** What every entry is given, besides the platform and the bot. */
export type EntryOptions = Pick<ReceiveOptions, 'webhook' | 'use' | 'onError'>;

async function listen(server: Server): Promise<string> {
  if (!server.listening) await new Promise((resolve) => server.once('listening', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** What both framework adapters offer: a Node entry whose turns see the activity's text, and a stop. */
interface AdapterLike {
  process(
    req: express.Request,
    res: express.Response,
    logic: (context: { activity: { text?: string | undefined } }) => Promise<void>,
  ): Promise<void>;
  close(): Promise<void>;
}

/** A framework adapter served at /im/webhook, recording the text of each turn. */
async function adapterEntry(adapter: AdapterLike): Promise<Entry> {
  const handled: string[] = [];
  const server = express()
    .post('/im/webhook', (req, res) =>
      adapter.process(req, res, async (context) => void handled.push(context.activity.text ?? '')),
    )
    .listen(0, '127.0.0.1');
  return {
    origin: await listen(server),
    handled,
    close: async () => {
      await adapter.close();
      server.closeAllConnections();
    },
  };
}

/** A web-standard handler served by Hono at /im/webhook. */
async function fetchEntry(
  handler: (request: Request) => Promise<Response>,
  handled: string[],
  close: () => Promise<void>,
): Promise<Entry> {
  const app = new Hono().all('/im/webhook', (c) => handler(c.req.raw));
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
  return {
    origin: await listen(server),
    handled,
    close: async () => {
      await close();
      server.closeAllConnections();
    },
  };
}

const quiet = { onError: () => undefined };

/** The entries by name, each started for `platform`'s `bot`. */
export const entries: Record<
  string,
  (platform: BotPlatform, bot: string, options?: EntryOptions) => Promise<Entry>
> = {
  async express(platform, bot, options) {
    const handled: string[] = [];
    const router = imbot({
      ...quiet,
      ...options,
      platform,
      bots: [{ userId: bot }],
      onMessage: (message) => void handled.push(message.text),
    });
    await router.ready;
    const server = express().use('/im', router).listen(0, '127.0.0.1');
    return {
      origin: await listen(server),
      handled,
      close: async () => {
        await router.close();
        server.closeAllConnections();
      },
    };
  },
  adapter: (platform, bot, options) =>
    adapterEntry(new ImBotAdapter({ ...quiet, ...options, platform, bots: [bot] })),
  agents: (platform, bot, options) =>
    adapterEntry(new ImbotAgentsAdapter({ ...quiet, ...options, platform, bots: [bot] })),
  async fetch(platform, bot, options) {
    const handled: string[] = [];
    const handler = createFetchHandler({
      ...quiet,
      ...options,
      platform,
      bots: [{ userId: bot }],
      onMessage: (message) => void handled.push(message.text),
    });
    await handler.ready;
    return fetchEntry(handler, handled, () => handler.close());
  },
  async chat(platform, bot, options) {
    const handled: string[] = [];
    const adapter = createImbotAdapter({ ...quiet, ...options, platform, botId: bot });
    const chat = new Chat({
      userName: 'conformance',
      adapters: { [platform.name]: adapter },
      state: createMemoryState(),
      logger: 'silent',
    });
    chat.onDirectMessage((_thread, message) => void handled.push(message.text));
    // A button press reaches the Chat SDK as an action: its id is the button's value here.
    chat.onAction((event) => void handled.push(event.actionId));
    await chat.initialize();
    const webhook = chat.webhooks[platform.name as keyof typeof chat.webhooks] as (
      request: Request,
    ) => Promise<Response>;
    return fetchEntry(webhook, handled, () => chat.shutdown());
  },
};
