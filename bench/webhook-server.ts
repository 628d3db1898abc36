/**
 * The receiving side of `bench/webhook.ts`, in a process of its own: an Express app on a free port
 * that takes Tencent robot callbacks either through imbot's middleware or through a bare handler
 * doing the same signature check. Prints `listening on <url>` once it serves.
 *
 *   node --conditions=@imbot/source --import tsx bench/webhook-server.ts --variant imbot|bare --emulator <url>
 */
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { TencentIm } from '@imbot/core';
import { verifyTencentCallback } from '@imbot/core/tencent';
import { imbot } from '@imbot/express-middleware';
import express from 'express';

export const BENCH_APP = { sdkAppId: 1400000000, secretKey: 'bench-secret-key', admin: 'administrator' };
export const BENCH_TOKEN = 'bench-callback-token';
export const BENCH_BOT = '@RBT#bench';
const ANSWER = '{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { variant: { type: 'string' }, emulator: { type: 'string' } } });
  const web = express();
  let handled = 0;
  if (values.variant === 'imbot') {
    const im = new TencentIm({
      ...BENCH_APP,
      baseUrl: values.emulator as string,
      callbackToken: BENCH_TOKEN,
    });
    const router = imbot({
      platform: im.platform,
      bots: [{ userId: BENCH_BOT }],
      onMessage: () => {
        handled++;
      },
    });
    await router.ready;
    web.use('/im', router);
  } else {
    // The same work a careful hand-written receiver does: read the body, check the signature and
    // freshness, parse, answer. No de-duplication: it is the baseline imbot's costs are measured against.
    web.post('/im/webhook', express.raw({ type: () => true, limit: '1mb' }), (req, res) => {
      const query = new URL(req.url, 'http://localhost').searchParams;
      verifyTencentCallback(query, BENCH_APP.sdkAppId, { token: BENCH_TOKEN });
      JSON.parse((req.body as Buffer).toString('utf8'));
      res.type('application/json').send(ANSWER);
      setImmediate(() => {
        handled++;
      });
    });
  }
  web.get('/handled', (_req, res) => {
    (globalThis as { gc?: () => void }).gc?.();
    const memory = process.memoryUsage();
    res.json({ handled, rssBytes: memory.rss, heapBytes: memory.heapUsed });
  });
  const server = web.listen(0, '127.0.0.1', () => {
    console.log(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
