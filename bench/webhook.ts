/**
 * Webhook receiving throughput: 300,000 distinct Tencent robot callbacks sent to imbot's Express
 * middleware (verify, parse, de-duplicate in a `MemorySeenStore`, answer, hand to the handler) and to
 * a bare Express handler doing the same signature check, each in its own process, the sender in
 * this one. Rounds alternate the two (3 rounds, medians); throughput is reported per 100,000
 * callbacks so that a slowdown as the remembered keys pile up would show.
 *
 *   pnpm bench:webhook [--callbacks 300000] [--rounds 3]
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { tencentCallbackSign } from '@imbot/core/tencent';
import { Pool, request } from 'undici';
import { startEmulatorProcess, startListening } from './emulator-process.js';
import { BENCH_APP, BENCH_BOT, BENCH_TOKEN } from './webhook-server.js';

const { values } = parseArgs({
  options: { callbacks: { type: 'string', default: '300000' }, rounds: { type: 'string', default: '3' } },
});
const CALLBACKS = Number(values.callbacks);
const ROUNDS = Number(values.rounds);
const SEGMENTS = 3;
const IN_FLIGHT = 64;

type Variant = 'bare' | 'imbot';

function startServer(variant: Variant, emulatorUrl: string): Promise<{ url: string; child: ChildProcess }> {
  return startListening(
    'bench/webhook-server.ts',
    ['--variant', variant, '--emulator', emulatorUrl],
    ['--expose-gc'],
  );
}

/** Sends `CALLBACKS` distinct callbacks, `IN_FLIGHT` at a time; callbacks per second in each segment. */
async function drive(url: string): Promise<{ perSegment: number[]; rssMb: number; heapMb: number }> {
  const pool = new Pool(url, { connections: 16, pipelining: 1 });
  const segmentSize = Math.ceil(CALLBACKS / SEGMENTS);
  const segmentEnds: number[] = [];
  let sent = 0;
  let done = 0;
  let signedAt = 0;
  let query = '';
  const started = performance.now();
  const worker = async () => {
    while (sent < CALLBACKS) {
      sent++;
      const second = Math.floor(Date.now() / 1000);
      if (second !== signedAt) {
        signedAt = second;
        query = new URLSearchParams({
          SdkAppid: String(BENCH_APP.sdkAppId),
          CallbackCommand: 'Bot.OnC2CMessage',
          contenttype: 'json',
          RequestTime: String(second),
          Sign: tencentCallbackSign(BENCH_TOKEN, second),
        }).toString();
      }
      const body = JSON.stringify({
        CallbackCommand: 'Bot.OnC2CMessage',
        From_Account: 'user01',
        To_Account: BENCH_BOT,
        MsgKey: randomUUID(),
        MsgTime: second,
        MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'hi' } }],
      });
      const answer = await pool.request({
        method: 'POST',
        path: `/im/webhook?${query}`,
        headers: { 'content-type': 'application/json' },
        body,
      });
      await answer.body.text();
      if (answer.statusCode !== 200) throw new Error(`callback answered ${answer.statusCode}`);
      done++;
      if (done % segmentSize === 0 || done === CALLBACKS) segmentEnds.push(performance.now());
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  await pool.close();
  const stats = (await (await request(`${url}/handled`)).body.json()) as {
    handled: number;
    rssBytes: number;
    heapBytes: number;
  };
  if (stats.handled !== CALLBACKS) throw new Error(`handled ${stats.handled} of ${CALLBACKS}`);
  const perSegment = segmentEnds.map(
    (end, i) => segmentSize / ((end - (segmentEnds[i - 1] ?? started)) / 1000),
  );
  return { perSegment, rssMb: stats.rssBytes / 1024 / 1024, heapMb: stats.heapBytes / 1024 / 1024 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const emulator = await startEmulatorProcess({ robots: [BENCH_BOT], secretKey: BENCH_APP.secretKey });
const results: Record<Variant, { perSegment: number[]; rssMb: number; heapMb: number }[]> = {
  bare: [],
  imbot: [],
};
try {
  for (let round = 1; round <= ROUNDS; round++) {
    for (const variant of (round % 2 ? ['bare', 'imbot'] : ['imbot', 'bare']) as Variant[]) {
      const server = await startServer(variant, emulator.url);
      try {
        const result = await drive(server.url);
        results[variant].push(result);
        console.error(
          `round ${round} ${variant}: ${result.perSegment.map((r) => Math.round(r)).join(' / ')} callbacks/s, ${Math.round(result.rssMb)} MB RSS, ${Math.round(result.heapMb)} MB heap after GC`,
        );
      } finally {
        server.child.kill();
      }
    }
  }
} finally {
  await emulator.close();
}

const segmentLabel = (i: number) =>
  `${Math.round((i * CALLBACKS) / SEGMENTS / 1000)}k–${Math.round(((i + 1) * CALLBACKS) / SEGMENTS / 1000)}k`;
console.log(`| callbacks | bare Express (callbacks/s) | imbot middleware (callbacks/s) | imbot ÷ bare |`);
console.log('|---|---|---|---|');
for (let i = 0; i < SEGMENTS; i++) {
  const bare = median(results.bare.map((r) => r.perSegment[i] as number));
  const mine = median(results.imbot.map((r) => r.perSegment[i] as number));
  console.log(
    `| ${segmentLabel(i)} | ${Math.round(bare)} | ${Math.round(mine)} | ${(mine / bare).toFixed(2)}× |`,
  );
}
const mb = (v: Variant, of: 'rssMb' | 'heapMb') => Math.round(median(results[v].map((r) => r[of])));
console.log(
  `\nAfter ${CALLBACKS.toLocaleString('en')} callbacks: heap kept after GC bare ${mb('bare', 'heapMb')} MB, ` +
    `imbot ${mb('imbot', 'heapMb')} MB; RSS bare ${mb('bare', 'rssMb')} MB, imbot ${mb('imbot', 'rssMb')} MB.`,
);
