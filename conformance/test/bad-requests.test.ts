/**
 * One corpus of bad webhook requests, sent to every entry into the webhook pipeline (see
 * `entries.ts`) on both clouds: each entry must give each request the same answer, run no handler
 * or turn, and then answer a valid callback on the same keep-alive connection.
 */
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { Readable } from 'node:stream';
import { RongCloud, TencentIm } from '@imbot/core';
import { type Emulator, startEmulator } from '@imbot/emulator';
import { Client } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CloudName, clouds, RONG, TENCENT, TOKEN } from './callbacks.js';
import { type Entry, entries } from './entries.js';

const BODY_TIMEOUT_MS = 400;
const webhook = { maxBodyBytes: 1024 * 1024, bodyTimeoutMs: BODY_TIMEOUT_MS };

interface Answer {
  status: number;
  body: unknown;
  closes: boolean;
}

async function post(
  client: Client,
  query: string,
  body: string | Buffer | Readable,
  headers: Record<string, string> = { 'content-type': 'application/json' },
): Promise<Answer> {
  const response = await client.request({ method: 'POST', path: `/im/webhook?${query}`, headers, body });
  const text = await response.body.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: compared as text
  }
  return { status: response.statusCode, body: parsed, closes: response.headers.connection === 'close' };
}

const twoMegabytes = Buffer.alloc(2 * 1024 * 1024, 'x');
async function* chunked(): AsyncIterable<Buffer> {
  for (let i = 0; i < 32; i++) yield twoMegabytes.subarray(i * 65536, (i + 1) * 65536);
}

/** A body that stops half-way: sent on a raw socket, the answer read as it comes. */
function slowBody(origin: string, query: string): Promise<{ status: number; closed: boolean }> {
  const { port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    let data = '';
    socket.on('data', (chunk) => {
      data += chunk;
    });
    socket.on('error', reject);
    socket.on('close', () => resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(data)?.[1]), closed: true }));
    socket.write(
      `POST /im/webhook?${query} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"Callback`,
    );
  });
}

/** Each case: what it sends, given the cloud and a keep-alive client of the entry. */
const corpus: Record<string, (cloud: CloudName, client: Client) => Promise<Answer>> = {
  forged: (c, client) =>
    post(client, clouds[c].query({ secret: 'not-the-secret' }), clouds[c].body('forged')),
  missing: (c, client) => post(client, clouds[c].query({ unsigned: true }), clouds[c].body('missing')),
  stale: (c, client) =>
    post(client, clouds[c].query({ time: Math.floor(Date.now() / 1000) - 120 }), clouds[c].body('stale')),
  future: (c, client) =>
    post(client, clouds[c].query({ time: Math.floor(Date.now() / 1000) + 120 }), clouds[c].body('future')),
  'wrong app': (c, client) =>
    post(client, clouds[c].query({ app: '1400000999' }), clouds[c].body('wrong app')),
  malformed: (c, client) => post(client, clouds[c].query(), '{"not json'),
  'non-object': (c, client) => post(client, clouds[c].query(), '[1,2,3]'),
  'JSON null': (c, client) => post(client, clouds[c].query(), 'null'),
  '2 MB': (c, client) => post(client, clouds[c].query(), twoMegabytes),
  '2 MB chunked': (c, client) => post(client, clouds[c].query(), Readable.from(chunked())),
  replay: async (c, client) => {
    // The first is valid and handled; the same request again is a replay (RongCloud: same nonce)
    // or a redelivery (Tencent: same message key), handled no more.
    const query = clouds[c].query({ nonce: randomUUID() });
    const body = clouds[c].body('replayed', randomUUID());
    expect((await post(client, query, body)).status).toBe(200);
    return post(client, query, body);
  },
  '200 in parallel': async (c, client) => {
    const answers = await Promise.all(
      Array.from({ length: 200 }, () =>
        post(client, clouds[c].query({ secret: 'not-the-secret' }), clouds[c].body('parallel')),
      ),
    );
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    return answers[0] as Answer;
  },
};

describe.each(['tencent', 'rongcloud'] as const)('every entry on %s', (cloud) => {
  let emulator: Emulator;
  const clients: { close(): Promise<void> }[] = [];
  const running: Record<string, Entry> = {};
  const answers: Record<string, Record<string, Answer>> = {};

  beforeAll(async () => {
    emulator = await startEmulator({ tencent: TENCENT, rongcloud: RONG });
    const client =
      cloud === 'tencent'
        ? new TencentIm({ ...TENCENT, baseUrl: emulator.url, callbackToken: TOKEN })
        : new RongCloud({ ...RONG, baseUrl: emulator.url, callbackUrl: 'http://127.0.0.1:9/unused' });
    clients.push(client);
    for (const [name, start] of Object.entries(entries))
      running[name] = await start(client.platform, clouds[cloud].bot, { webhook });
  }, 30_000);
  afterAll(async () => {
    for (const entry of Object.values(running)) await entry.close();
    for (const client of clients) await client.close();
    await emulator.close();
  });

  it.each(Object.keys(entries))(
    '%s: refuses the corpus, runs nothing, and serves the same connection after',
    async (name) => {
      const entry = running[name] as Entry;
      const client = new Client(entry.origin, { pipelining: 1 });
      let connections = 0;
      client.on('connect', () => connections++);
      try {
        answers[name] = {};
        for (const [label, send] of Object.entries(corpus)) {
          (answers[name] as Record<string, Answer>)[label] = await send(cloud, client);
        }
        const valid = await post(client, clouds[cloud].query(), clouds[cloud].body('valid'));
        expect(valid.status).toBe(200);
        await expect.poll(() => entry.handled).toEqual(['replayed', 'valid']);
        expect(connections).toBe(1);
        const slow = await slowBody(entry.origin, clouds[cloud].query());
        expect(slow).toEqual({ status: 408, closed: true });
        expect((await post(client, clouds[cloud].query(), clouds[cloud].body('after slow'))).status).toBe(
          200,
        );
        await expect.poll(() => entry.handled).toEqual(['replayed', 'valid', 'after slow']);
      } finally {
        await client.close();
      }
    },
    30_000,
  );

  it('every entry gave every request the same answer, the one the corpus expects', () => {
    const [first, ...others] = Object.keys(entries);
    for (const other of others) expect(answers[other]).toEqual(answers[first as string]);
    const problems = Object.fromEntries(
      Object.entries(answers[first as string] ?? {}).map(([label, a]) => [
        label,
        `${a.status} ${(a.body as { problem?: string }).problem ?? ''}`.trim(),
      ]),
    );
    expect(problems).toEqual({
      forged: '401 bad-signature',
      missing: '401 missing-signature',
      stale: '401 stale',
      future: '401 stale',
      'wrong app': '403 app-mismatch',
      malformed: '400 malformed',
      'non-object': '400 malformed',
      'JSON null': '400 malformed',
      '2 MB': '413 too-large',
      '2 MB chunked': '413 too-large',
      replay: cloud === 'tencent' ? '200' : '409 replayed',
      '200 in parallel': '401 bad-signature',
    });
  });
});
