import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyUserSig } from '../src/tencent/usersig.js';

/** What a handler may answer: a JSON body (HTTP 200), a raw status and body, or a dropped socket. */
export type FakeAnswer =
  | Record<string, unknown>
  | { status: number; raw: string }
  | { reset: true }
  | { hang: true };

export interface RecordedCall {
  api: string;
  query: URLSearchParams;
  body: unknown;
  arrivedAt: number;
}

export interface FakeTencent {
  url: string;
  calls: RecordedCall[];
  /** Answers for `api`; called with the parsed body and the number of earlier calls of that API. */
  on(
    api: string,
    handler: (body: Record<string, unknown>, n: number) => FakeAnswer | Promise<FakeAnswer>,
  ): void;
  close(): Promise<void>;
}

export const SDK_APP_ID = 1400000000;
export const SECRET_KEY = 'c2VjcmV0LWtleS1uZXZlci10by1iZS1zZWVu-5bd2850fff3ecb11d7c8';
export const ADMIN = 'administrator';

const ok = { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '' };

/**
 * A bare HTTP server that checks the REST query as the cloud does (UserSig included) and answers
 * each API with what the test tells it to: enough to drive the client through every path over
 * real sockets on 127.0.0.1.
 */
export async function startFakeTencent(): Promise<FakeTencent> {
  const handlers = new Map<
    string,
    (body: Record<string, unknown>, n: number) => FakeAnswer | Promise<FakeAnswer>
  >();
  const counts = new Map<string, number>();
  const calls: RecordedCall[] = [];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const arrivedAt = performance.now();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const api = url.pathname.replace(/^\/v4\//, '');
    const body = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
    calls.push({ api, query: url.searchParams, body, arrivedAt });
    const json = (value: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    if (body === undefined) return json({ ActionStatus: 'FAIL', ErrorCode: 60003, ErrorInfo: 'empty body' });
    try {
      const { userId } = verifyUserSig({
        sdkAppId: Number(url.searchParams.get('sdkappid')),
        secretKey: SECRET_KEY,
        userSig: url.searchParams.get('usersig') ?? '',
      });
      if (userId !== url.searchParams.get('identifier')) throw new Error('identifier');
    } catch {
      return json({ ActionStatus: 'FAIL', ErrorCode: 70009, ErrorInfo: 'usersig check failed' });
    }
    const n = counts.get(api) ?? 0;
    counts.set(api, n + 1);
    const handler = handlers.get(api);
    const answer = handler ? await handler(body, n) : ok;
    if ('reset' in answer) {
      req.socket.destroy();
      return;
    }
    if ('hang' in answer) return;
    if ('raw' in answer && typeof answer.status === 'number') {
      res.writeHead(answer.status, { 'content-type': 'text/plain' });
      res.end(answer.raw);
      return;
    }
    json({ ...ok, ...answer });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    on(api, handler) {
      handlers.set(api, handler);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
