/**
 * Stream sessions holding large backlogs, against the emulator in its own process (200 calls/s):
 *
 * - `producer`: a 20 MB source piped into one session, through pipeFrom() and through writable. How
 *   far the source gets ahead of delivery, how the heap grows (with the text kept for `finish.text`,
 *   and with `keepText: false`), the longest event-loop block once calls flow, and exactness.
 * - `sessions`: 100 sessions each handed 1 MB in one write(): the longest event-loop block and the
 *   share of the budget used over 10 s, after which they are aborted (closing calls still made).
 * - `burst`: 200 sessions streaming 30 tokens/s for 10 s while one more is handed 1 MB at 2 s: the
 *   worst latency the other sessions see (from their `flush` events).
 *
 *   pnpm bench:backlog [--megabytes 20]
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { type StreamSession, TencentIm } from '@imbot/core';
import { request } from 'undici';
import { type EmulatorProcess, startEmulatorProcess } from './emulator-process.js';

const { values } = parseArgs({ options: { megabytes: { type: 'string', default: '20' } } });
const MEGABYTES = Number(values.megabytes);
const app = { sdkAppId: 1400000000, secretKey: 'bench-secret-key', admin: 'administrator' };
const BOT = '@RBT#bench';
const API = 'openim_robot_http_svc/send_stream_msg';
const gc = (globalThis as { gc?: () => void }).gc;

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const kib = (units: number) => `${Math.round(units / 1024)} Ki`;
const ms = (v: number) => `${Math.round(v)} ms`;

/** A kilobyte of text as a model writes it, with CJK and emoji, so no cut may split a grapheme. */
const PIECE = 'Streaming text 流式输出 👩‍👩‍👧‍👦 e\u0301. '.repeat(24).slice(0, 1000);

async function shownText(
  emulator: EmulatorProcess,
  user: string,
): Promise<{ text: string; messages: number; finished: boolean }> {
  const answer = await request(
    `${emulator.url}/_emulator/tencent/conversation?user=${user}&with=${encodeURIComponent(BOT)}`,
  );
  const messages = ((await answer.body.json()) as { from: string; text: string; state: string }[]).filter(
    (m) => m.from === BOT,
  );
  return {
    text: messages.map((m) => m.text).join(''),
    messages: messages.length,
    finished: messages.every((m) => m.state === 'finished'),
  };
}

/** Watches the event loop from the first call on (`start()`), and the heap, every 50 ms. */
function watch() {
  const loop = monitorEventLoopDelay({ resolution: 5 });
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  let heapPeak = heapBefore;
  const timer = setInterval(() => {
    heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
  }, 50);
  return {
    start: () => loop.enable(),
    stop: () => {
      clearInterval(timer);
      loop.disable();
      gc?.();
      return {
        loopMax: loop.max / 1e6,
        loopP99: loop.percentile(99) / 1e6,
        heapGrowth: heapPeak - heapBefore,
        retained: process.memoryUsage().heapUsed - heapBefore,
      };
    },
  };
}

async function producer(
  emulator: EmulatorProcess,
  way: 'pipeFrom' | 'writable',
  keepText: boolean,
): Promise<void> {
  await emulator.reset();
  const im = new TencentIm({ ...app, baseUrl: emulator.url });
  await im.getAllRobots();
  const user = `${way}-${keepText}`;
  const session = im.openStream({ from: BOT, to: user }, { keepText, minIntervalMs: 0 });
  const pieces = Math.round((MEGABYTES * 1024 * 1024) / PIECE.length);
  let produced = 0;
  let delivered = 0;
  let lead = 0;
  let firstFalse: number | undefined;
  const w = watch();
  session.once('flush', () => w.start());
  session.on('flush', (f) => {
    delivered += f.chunk.length;
  });
  const write = session.write.bind(session);
  session.write = (text: string) => {
    const ok = write(text);
    if (!ok && firstFalse === undefined) firstFalse = produced;
    return ok;
  };
  const started = performance.now();
  if (way === 'pipeFrom') {
    await session.pipeFrom(
      (async function* () {
        for (let i = 0; i < pieces; i++) {
          lead = Math.max(lead, produced - delivered);
          produced += PIECE.length;
          yield PIECE;
        }
      })(),
    );
  } else {
    let i = 0;
    await new ReadableStream<string>(
      {
        pull(controller) {
          lead = Math.max(lead, produced - delivered);
          if (i++ >= pieces) return controller.close();
          produced += PIECE.length;
          controller.enqueue(PIECE);
        },
      },
      { highWaterMark: 0 },
    ).pipeTo(session.writable);
  }
  const seconds = (performance.now() - started) / 1000;
  const { loopMax, loopP99, heapGrowth, retained } = w.stop();
  const shown = await shownText(emulator, user);
  const exact = shown.text === PIECE.repeat(pieces) && shown.finished;
  console.log(
    `| ${way} | ${keepText ? 'kept' : 'keepText: false'} | ${mb(produced)} in ${seconds.toFixed(1)} s | ${firstFalse === undefined ? 'never' : kib(firstFalse)} | ${kib(lead)} | ${mb(heapGrowth)} / ${mb(retained)} | ${ms(loopP99)} / ${ms(loopMax)} | ${shown.messages} | ${exact ? 'yes' : 'NO'} |`,
  );
  await im.close();
}

async function sessions(emulator: EmulatorProcess): Promise<void> {
  await emulator.reset();
  const im = new TencentIm({ ...app, baseUrl: emulator.url });
  await im.getAllRobots();
  const megabyte = PIECE.repeat(1024);
  const w = watch();
  w.start();
  const started = performance.now();
  const open: StreamSession[] = Array.from({ length: 100 }, (_, i) =>
    im.openStream({ from: BOT, to: `big${i}` }),
  );
  for (const session of open) session.write(megabyte);
  await new Promise((resolve) => setTimeout(resolve, 10_000));
  const seconds = (performance.now() - started) / 1000;
  const accepted = (await emulator.rate('tencent'))[API]?.accepted ?? 0;
  const { loopMax, loopP99 } = w.stop();
  await Promise.all(open.map((s) => s.abort('bench over')));
  const rejected = (await emulator.rate('tencent'))[API]?.rejected ?? 0;
  console.log(
    `| 100 × 1 MB, 10 s | ${(accepted / seconds).toFixed(1)} calls/s (${Math.round(accepted / seconds / 2)} %) | ${rejected} | ${ms(loopP99)} / ${ms(loopMax)} |`,
  );
  await im.close();
}

async function burst(emulator: EmulatorProcess): Promise<void> {
  await emulator.reset();
  const im = new TencentIm({ ...app, baseUrl: emulator.url });
  await im.getAllRobots();
  const others = Array.from({ length: 200 }, (_, i) => im.openStream({ from: BOT, to: `steady${i}` }));
  const latencies: number[] = [];
  for (const s of others) s.on('flush', (f) => latencies.push(f.latencyMs));
  const big = im.openStream({ from: BOT, to: 'burst' });
  const burstAt = setTimeout(() => big.write(PIECE.repeat(1024)), 2000);
  const tick = setInterval(() => {
    for (const s of others) s.write('token ');
  }, 1000 / 30);
  await new Promise((resolve) => setTimeout(resolve, 10_000));
  clearInterval(tick);
  clearTimeout(burstAt);
  await Promise.all([...others.map((s) => s.end()), big.abort('bench over')]);
  latencies.sort((a, b) => a - b);
  const p99 = latencies[Math.floor(latencies.length * 0.99)] ?? 0;
  console.log(`| 200 streams + 1 MB burst in one | ${ms(p99)} | ${ms(latencies.at(-1) ?? 0)} |`);
  await im.close();
}

async function main(): Promise<void> {
  if (!gc) console.error('(run with node --expose-gc for heap figures)');
  const emulator = await startEmulatorProcess({ robots: [BOT], secretKey: app.secretKey });
  try {
    console.log(`\nOne session, a ${MEGABYTES} MB producer (Node ${process.version})\n`);
    console.log(
      '| way | text | produced | write() first false after (UTF-16 units) | source ahead of delivery, max (UTF-16 units) | heap growth: peak / kept after GC | event loop p99 / max | messages | exact |',
    );
    console.log('|---|---|---|---|---|---|---|---|---|');
    await producer(emulator, 'pipeFrom', true);
    await producer(emulator, 'pipeFrom', false);
    await producer(emulator, 'writable', false);
    console.log('\n| backlog | budget used | rejections | event loop p99 / max |');
    console.log('|---|---|---|---|');
    await sessions(emulator);
    console.log("\n| scenario | other streams' latency p99 | max |");
    console.log('|---|---|---|');
    await burst(emulator);
  } finally {
    await emulator.close();
  }
}

await main();
