import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Emulator, startEmulator } from '@imbot/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFetchHandler, type FetchHandler, TencentIm } from '../src/index.js';

/**
 * On a platform that ends work once the response is sent (a Cloudflare Worker, Vercel), the fetch
 * handler answers the cloud first and hands the handling to the platform's `waitUntil`: a Worker's
 * `ctx` as the second argument, or the `waitUntil` option.
 */

const TENCENT = { sdkAppId: 1400000000, secretKey: 'wait-until-key', admin: 'administrator' };
const TOKEN = 'wait-until-token';
const BOT = '@RBT#waiter';

let emulator: Emulator;
let im: TencentIm;
let server: Server;
/** What the server passes the handler beside the request, set by each test. */
let serve: (request: Request) => Promise<Response>;

beforeAll(async () => {
  emulator = await startEmulator({ tencent: TENCENT });
  im = new TencentIm({ ...TENCENT, baseUrl: emulator.url, callbackToken: TOKEN });
  // A web-standard server as a Worker's runtime would be: the request in, the response out.
  server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const response = await serve(
      new Request(`http://127.0.0.1${req.url}`, { method: req.method, body: Buffer.concat(chunks) }),
    );
    res.writeHead(response.status, Object.fromEntries(response.headers)).end(await response.text());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  emulator.tencent.setCallback(
    `http://127.0.0.1:${(server.address() as AddressInfo).port}/im/webhook`,
    TOKEN,
  );
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await im.close();
  await emulator.close();
});

/** A handler whose handling waits for `release()`, so a test sees what happened before it ran. */
function gatedHandler(extra: { waitUntil?: (work: Promise<unknown>) => void } = {}) {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let handled = false;
  const handler: FetchHandler = createFetchHandler({
    platform: im.platform,
    bots: [{ userId: BOT }],
    ...extra,
    onMessage: async (message, reply) => {
      await gate;
      const stream = reply.stream();
      stream.write(`echo: ${message.text}`);
      await stream.end();
      handled = true;
    },
  });
  return { handler, release, handled: () => handled };
}

/** A Worker's `ctx`: its `waitUntil` works only when called on it, as workerd's does. */
class WorkerContext {
  readonly kept: Promise<unknown>[] = [];
  waitUntil(work: Promise<unknown>): void {
    if (!(this instanceof WorkerContext)) throw new TypeError('Illegal invocation');
    this.kept.push(work);
  }
}

describe('createFetchHandler and waitUntil', () => {
  it("answers the cloud first and gives the handling to a Worker's ctx.waitUntil", async () => {
    const { handler, release, handled } = gatedHandler();
    await handler.ready;
    const ctx = new WorkerContext();
    serve = (request) => handler(request, ctx);
    await emulator.tencent.userSends({ from: 'alice', to: BOT, text: 'hi' });
    // The callback has its answer while the handling still waits.
    expect(ctx.kept).toHaveLength(1);
    expect(handled()).toBe(false);
    release();
    await Promise.all(ctx.kept);
    expect(handled()).toBe(true);
    expect(emulator.tencent.conversation('alice', BOT).find((m) => m.from === BOT)).toMatchObject({
      state: 'finished',
      text: 'echo: hi',
    });
    await handler.close();
  });

  it('uses the waitUntil option when the request comes without one (Vercel, or Bun’s server object)', async () => {
    const kept: Promise<unknown>[] = [];
    const { handler, release } = gatedHandler({ waitUntil: (work) => kept.push(work) });
    await handler.ready;
    serve = (request) => handler(request, { upgrade: () => false });
    await emulator.tencent.userSends({ from: 'bob', to: BOT, text: 'yo' });
    expect(kept).toHaveLength(1);
    release();
    await Promise.all(kept);
    expect(emulator.tencent.conversation('bob', BOT).find((m) => m.from === BOT)).toMatchObject({
      state: 'finished',
      text: 'echo: yo',
    });
    await handler.close();
  });
});
