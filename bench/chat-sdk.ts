/**
 * Chat SDK bots streaming on Tencent Cloud Chat, side by side in one run: the Chat SDK's own
 * post-and-edit fallback (the same `@imbot/chat-adapter` with its `stream` method left out, so
 * `thread.post(stream)` posts "..." and edits it every 500 ms) against the adapter's native
 * `stream()` (one imbot stream session per answer under the shared fair budget). The emulator runs
 * in its own process with the cloud's 200 calls/s per API.
 *
 * S conversations each get an answer of 30 tokens/s for 10 s through the real `chat` package
 * (`bot.thread(id).post(asyncIterable)`); the ways alternate within each round, and the table
 * shows the medians of the rounds: calls the cloud refused, answers that arrived exact and
 * finished, token-to-user latency, and calls per answer.
 *
 *   npm run bench:chat-sdk -- [--seconds 10] [--sessions 200,1000] [--rounds 3]
 */
import { parseArgs } from 'node:util';
import { createMemoryState } from '@chat-adapter/state-memory';
import { createImbotAdapter } from '@imbot/chat-adapter';
import { TencentIm } from '@imbot/core';
import { Chat } from 'chat';
import { Delivery, median, ms, pct, percentile, produce, sleep, token, within } from './delivery.js';
import { type EmulatorProcess, startEmulatorProcess } from './emulator-process.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    sessions: { type: 'string', default: '200,1000' },
    rounds: { type: 'string', default: '3' },
    'tokens-per-second': { type: 'string', default: '30' },
  },
});
const SECONDS = Number(values.seconds);
const SESSION_COUNTS = (values.sessions as string).split(',').map(Number);
const ROUNDS = Number(values.rounds);
const TOKENS_PER_SECOND = Number(values['tokens-per-second']);
/** How long the answers may take to finish after the writers stop before the rest counts as lost. */
const DRAIN_MS = 120_000;

const app = { sdkAppId: 1400000000, secretKey: 'bench-secret-key', admin: 'administrator' };
const BOT = '@RBT#bench';

type Way = 'post+edit' | 'native';
const WAYS: Way[] = ['post+edit', 'native'];

interface Row {
  rejections: number;
  exact: number;
  p50: number;
  p99: number;
  callsPerAnswer: number;
  lost: number;
  /** Answers whose `thread.post` rejected; `why` counts their errors' codes. */
  failed: number;
  why: Record<string, number>;
}

/** A token source per conversation: yields what `produce` writes for it, then ends. */
class Sources {
  readonly #queues: string[][];
  readonly #waiting: (() => void)[] = [];
  #ended = false;

  constructor(count: number) {
    this.#queues = Array.from({ length: count }, () => []);
  }

  push(session: number, text: string): void {
    this.#queues[session]?.push(text);
    this.#wake(session);
  }

  end(): void {
    this.#ended = true;
    for (let s = 0; s < this.#queues.length; s++) this.#wake(s);
  }

  #wake(session: number): void {
    const resolve = this.#waiting[session];
    if (resolve) {
      delete this.#waiting[session];
      resolve();
    }
  }

  async *of(session: number): AsyncGenerator<string> {
    const queue = this.#queues[session] as string[];
    for (;;) {
      if (queue.length > 0) yield queue.splice(0).join('');
      else if (this.#ended) return;
      else await new Promise<void>((resolve) => (this.#waiting[session] = resolve));
    }
  }
}

async function measure(emulator: EmulatorProcess, way: Way, count: number): Promise<Row> {
  await emulator.reset();
  const users = Array.from({ length: count }, (_, i) => `user${i}`);
  const record = new Delivery(BOT, users);
  const unfollow = await emulator.follow((event, at) => record.applied(event, at));
  const im = new TencentIm({ ...app, baseUrl: emulator.url, callbackToken: 'bench-token', connections: 256 });
  const adapter = createImbotAdapter({ platform: im.platform, botId: BOT, ensure: false, typing: false });
  // The Chat SDK's own fallback: the same adapter with no native stream.
  if (way === 'post+edit') Object.defineProperty(adapter, 'stream', { value: undefined });
  const bot = new Chat({
    userName: 'bench',
    adapters: { tencent: adapter },
    state: createMemoryState(),
    logger: 'silent',
  });
  await bot.initialize();
  const sources = new Sources(count);
  const posts = users.map((user, i) => bot.thread(`tencent:dm:${user}`).post(sources.of(i)));
  await produce(count, { seconds: SECONDS, perSecond: TOKENS_PER_SECOND }, (s, n) => {
    const text = token(s, n);
    record.wrote(s, text);
    sources.push(s, text);
  });
  sources.end();
  const settled = await within(posts, DRAIN_MS);
  const why: Record<string, number> = {};
  const failures = Array.isArray(settled) ? settled.filter((r) => r.status === 'rejected') : [];
  for (const failure of failures) {
    const reason = (failure as PromiseRejectedResult).reason as { code?: unknown; name?: string };
    const code = String(reason?.code ?? reason?.name ?? 'unknown');
    why[code] = (why[code] ?? 0) + 1;
  }
  await sleep(300); // the last events on their way
  unfollow();
  const rates = await emulator.rate('tencent');
  const calls = Object.values(rates);
  await bot.shutdown();
  await im.close();
  const latencies = record.latencies.sort((a, b) => a - b);
  const inexact = record.firstInexact();
  if (inexact) process.stderr.write(`\n  not exact: ${inexact}\n  `);
  return {
    rejections: calls.reduce((sum, r) => sum + r.rejected, 0),
    exact: record.exact(),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    callsPerAnswer: calls.reduce((sum, r) => sum + r.accepted, 0) / count,
    lost: record.lost(),
    failed: failures.length,
    why,
  };
}

async function main(): Promise<void> {
  const emulator = await startEmulatorProcess({ robots: [BOT], secretKey: app.secretKey });
  const results = new Map<string, Row[]>();
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      for (const count of SESSION_COUNTS) {
        for (const way of round % 2 === 1 ? WAYS : [...WAYS].reverse()) {
          process.stderr.write(`round ${round}, S=${count}, ${way}… `);
          const row = await measure(emulator, way, count);
          process.stderr.write(
            `${row.rejections} rejected, exact ${pct(row.exact)}, p99 ${ms(row.p99)}, ${row.callsPerAnswer.toFixed(1)} calls/answer, ${row.failed} failed ${JSON.stringify(row.why)}\n`,
          );
          const key = `${way}:${count}`;
          results.set(key, [...(results.get(key) ?? []), row]);
        }
      }
    }
  } finally {
    await emulator.close();
  }
  console.log(
    `\nChat SDK bots on Tencent Cloud Chat: S answers of ${SECONDS} s at ${TOKENS_PER_SECOND} tokens/s, emulator limit 200 calls/s per API, medians of ${ROUNDS} interleaved rounds (Node ${process.version})\n`,
  );
  console.log(
    '| S | way | rejections | exact | token→user p50 / p99 | calls per answer | lost tokens | failed posts |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  for (const count of SESSION_COUNTS) {
    for (const way of WAYS) {
      const rows = results.get(`${way}:${count}`) ?? [];
      const pick = (f: (r: Row) => number) => median(rows.map(f));
      const label = way === 'native' ? 'imbot `stream()` (native)' : 'Chat SDK post + edit';
      console.log(
        `| ${count} | ${label} | ${pick((r) => r.rejections)} | ${pct(pick((r) => r.exact))} | ${ms(pick((r) => r.p50))} / ${ms(pick((r) => r.p99))} | ${pick((r) => r.callsPerAnswer).toFixed(1)} | ${pct(pick((r) => r.lost))} | ${pick((r) => r.failed)} |`,
      );
    }
  }
}

await main();
