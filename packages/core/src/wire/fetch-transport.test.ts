import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImbotError, NetworkError, TimeoutError } from '../errors.js';
import { FetchTransport } from './fetch-transport.js';
import type { HttpPost } from './transport.js';

/**
 * The fetch transport keeps the undici transport's contract on its own: the deadline on headers and
 * on each pause of the body, the answer size cap, and typed errors whose causes hold no secret.
 */

let server: Server;
let origin: string;
/** Pending answers held open by the 'stall' routes, ended when the suite ends. */
const held = new Set<() => void>();

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/ok') res.end('{"ok":1}');
      else if (req.url === '/no-headers') held.add(() => res.end());
      else if (req.url === '/stall-body') {
        res.writeHead(200);
        res.write('{"part":');
        held.add(() => res.end());
      } else if (req.url === '/declared-large') {
        res.writeHead(200, { 'content-length': '2048' });
        res.end('x'.repeat(2048));
      } else if (req.url === '/chunked-large') {
        res.writeHead(200);
        for (let i = 0; i < 8; i++) res.write('y'.repeat(256));
        res.end();
      } else res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const end of held) end();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function post(path: string, extra: Partial<HttpPost> = {}): HttpPost {
  return {
    origin,
    path,
    endpoint: path,
    headers: { 'content-type': 'application/json' },
    body: '{}',
    timeoutMs: 150,
    redact: (text) => text.replaceAll('s3cret', '***'),
    ...extra,
  };
}

async function failure(promise: Promise<unknown>): Promise<ImbotError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ImbotError);
  return error as ImbotError;
}

describe('FetchTransport', () => {
  it('reads the whole answer with its status', async () => {
    const transport = new FetchTransport();
    await expect(transport.post(post('/ok'))).resolves.toEqual({ status: 200, body: '{"ok":1}' });
    await expect(transport.post(post('/missing'))).resolves.toMatchObject({ status: 404 });
  });

  it('times out an answer whose headers do not come, and one whose body stalls', async () => {
    const transport = new FetchTransport();
    const headers = await failure(transport.post(post('/no-headers')));
    expect(headers).toBeInstanceOf(TimeoutError);
    expect(headers).toMatchObject({ code: 'TIMEOUT', timeoutMs: 150 });
    const body = await failure(transport.post(post('/stall-body')));
    expect(body).toBeInstanceOf(TimeoutError);
  });

  it("ends a call when the caller's signal aborts, before or during it", async () => {
    const transport = new FetchTransport();
    expect((await failure(transport.post(post('/ok', { signal: AbortSignal.abort() })))).code).toBe(
      'ABORTED',
    );
    const controller = new AbortController();
    const call = failure(
      transport.post(post('/no-headers', { signal: controller.signal, timeoutMs: 60_000 })),
    );
    setTimeout(() => controller.abort(), 20);
    expect((await call).code).toBe('ABORTED');
  });

  it('refuses an answer over the size cap, whether declared or streamed', async () => {
    const transport = new FetchTransport({ maxResponseBytes: 1024 });
    for (const path of ['/declared-large', '/chunked-large']) {
      const error = await failure(transport.post(post(path)));
      expect(error).toBeInstanceOf(NetworkError);
      expect(error.message).toContain('larger than allowed');
      expect((error as NetworkError).sent).toBe(true);
    }
  });

  it('says a refused connection was not sent, so any call may be retried', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const error = await failure(
      new FetchTransport().post(post('/ok', { origin: `http://127.0.0.1:${port}` })),
    );
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as NetworkError).sent).toBe(false);
  });

  it('keeps secrets out of the cause of a failure', async () => {
    const leaky = (() => Promise.reject(new TypeError('bad url https://x/?sig=s3cret'))) as typeof fetch;
    const error = await failure(new FetchTransport({}, leaky).post(post('/ok')));
    expect(JSON.stringify(error.cause, Object.getOwnPropertyNames(error.cause))).not.toContain('s3cret');
    expect(error.message).not.toContain('s3cret');
  });
});

describe('FetchTransport on workerd', () => {
  it('calls the global fetch as a plain function, not as a method (workerd refuses that)', async () => {
    const real = globalThis.fetch;
    let self: unknown = 'not called';
    globalThis.fetch = function (this: unknown, input: RequestInfo | URL, init?: RequestInit) {
      self = this;
      return real(input, init);
    } as typeof fetch;
    try {
      await new FetchTransport().post(post('/ok'));
    } finally {
      globalThis.fetch = real;
    }
    expect(self).toBeUndefined();
  });
});
