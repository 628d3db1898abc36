/**
 * Stream sessions under load, against the emulator with the cloud's 200 calls/s limit on.
 *
 * For S concurrent conversations, each producing 30 tokens/s for 10 s, it measures imbot's stream
 * sessions and, in the same run, the naive way to write it without imbot (await one
 * send_stream_msg per token, no limiter) as the baseline, and prints one table.
 *
 *   pnpm bench:stream [--seconds 10] [--sessions 1,50,200,1000] [--tokens-per-second 30]
 */
import { parseArgs } from 'node:util';
import { genUserSig, type StreamSession, TencentIm } from '@imbot/core';
import { type Emulator, startEmulator } from '@imbot/emulator';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    sessions: { type: 'string', default: '1,50,200,1000' },
    'tokens-per-second': { type: 'string', default: '30' },
  },
});
const SECONDS = Number(values.seconds);
const SESSION_COUNTS = (values.sessions as string).split(',').map(Number);
const TOKENS_PER_SECOND = Number(values['tokens-per-second']);
const BUDGET = 200;

const app = { sdkAppId: 1400000000, secretKey: 'bench-secret-key', admin: 'administrator' };
const BOT = '@RBT#bench';
const API = 'openim_robot_http_svc/send_stream_msg';
const gc = (globalThis as { gc?: () => void }).gc;

/** A token as an LLM would emit it: a word and a space, now and then CJK or an emoji. */
function token(session: number, n: number): string {
  const kinds = [`word${n} `, `${session}:${n} `, '流式 ', '👍🏽 ', 'and '];
  return kinds[(session + n) % kinds.length] as string;
}

interface Row {
  sessions: number;
  callsPerSecond: number;
  rejections: number;
  /** Most calls the emulator accepted in any one second. */
  busiest: number;
  p50: number;
  p99: number;
  fairness: number;
  heapPerSession: number | undefined;
  exact: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** Jain's fairness index: 1 when every session got the same number of calls. */
function jain(counts: number[]): number {
  const sum = counts.reduce((a, b) => a + b, 0);
  const squares = counts.reduce((a, b) => a + b * b, 0);
  return squares === 0 ? 1 : (sum * sum) / (counts.length * squares);
}

/**
 * Follows what the server has applied: for each user, when each written token was complete on
 * the server. Token latency is server-applied time minus write time.
 */
class LatencyProbe {
  readonly #writes = new Map<string, { end: number; at: number }[]>();
  readonly #written = new Map<string, number>();
  readonly #seen = new Map<string, number>();
  readonly #next = new Map<string, number>();
  readonly latencies: number[] = [];
  /** When each accepted call of each user was applied: one message or update per call. */
  readonly calls = new Map<string, number[]>();

  constructor(emulator: Emulator) {
    const onChange = (message: { from: string; to: string; msgKey: string; text: string }) => {
      if (message.from !== BOT) return;
      const times = this.calls.get(message.to) ?? [];
      times.push(performance.now());
      this.calls.set(message.to, times);
      this.#applied(message.to, message.msgKey, message.text.length);
    };
    emulator.tencent.state.on('message', onChange);
    emulator.tencent.state.on('update', onChange);
  }

  wrote(user: string, text: string): void {
    const end = (this.#written.get(user) ?? 0) + text.length;
    this.#written.set(user, end);
    let list = this.#writes.get(user);
    if (!list) {
      list = [];
      this.#writes.set(user, list);
    }
    list.push({ end, at: performance.now() });
  }

  readonly #messageLengths = new Map<string, Map<string, number>>();

  #applied(user: string, msgKey: string, length: number): void {
    let lengths = this.#messageLengths.get(user);
    if (!lengths) {
      lengths = new Map();
      this.#messageLengths.set(user, lengths);
    }
    lengths.set(msgKey, length);
    let total = 0;
    for (const l of lengths.values()) total += l;
    this.#seen.set(user, total);
    const list = this.#writes.get(user) ?? [];
    let i = this.#next.get(user) ?? 0;
    const now = performance.now();
    while (i < list.length && (list[i] as { end: number }).end <= total) {
      this.latencies.push(now - (list[i] as { at: number }).at);
      i++;
    }
    this.#next.set(user, i);
  }
}

async function writeFor(count: number, write: (session: number, n: number) => void): Promise<void> {
  const intervalMs = 1000 / TOKENS_PER_SECOND;
  const total = Math.round(SECONDS * TOKENS_PER_SECOND);
  // Sessions are spread over the interval, as independent conversations would be.
  await Promise.all(
    Array.from(
      { length: Math.min(count, 10) },
      (_, group) =>
        new Promise<void>((resolve) => {
          setTimeout(
            () => {
              let n = 0;
              const timer = setInterval(() => {
                for (let s = group; s < count; s += 10) write(s, n);
                if (++n >= total) {
                  clearInterval(timer);
                  resolve();
                }
              }, intervalMs);
            },
            (group * intervalMs) / 10,
          );
        }),
    ),
  );
}

/**
 * Accepted calls per user in the measuring window: exactly `SECONDS` from the first token, not until
 * the writer's timer finished (it drifts later under load, and would count part of the next round).
 */
function windowCalls(probe: LatencyProbe, from: number, to: number, users: string[]): number[] {
  return users.map((user) => (probe.calls.get(user) ?? []).filter((t) => t >= from && t <= to).length);
}

function exactShare(emulator: Emulator, users: string[], texts: string[]): number {
  let exact = 0;
  users.forEach((user, i) => {
    const messages = emulator.tencent.conversation(user, BOT).filter((m) => m.from === BOT);
    if (messages.map((m) => m.text).join('') === texts[i] && messages.every((m) => m.state === 'finished'))
      exact++;
  });
  return exact / users.length;
}

async function runImbot(emulator: Emulator, count: number): Promise<Row> {
  emulator.reset();
  const im = new TencentIm({ ...app, baseUrl: emulator.url, connections: 256 });
  await im.getAllRobots(); // warm the connection pool and the UserSig
  const users = Array.from({ length: count }, (_, i) => `user${i}`);
  const probe = new LatencyProbe(emulator);
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const sessions: StreamSession[] = users.map((to) =>
    im.openStream({ from: BOT, to }, { idleTimeoutMs: 60_000 }),
  );
  gc?.();
  const heapPerSession = gc ? (process.memoryUsage().heapUsed - heapBefore) / count : undefined;
  const started = performance.now();
  await writeFor(count, (s, n) => {
    const text = token(s, n);
    probe.wrote(users[s] as string, text);
    sessions[s]?.write(text);
  });
  const ended = started + SECONDS * 1000;
  await Promise.all(sessions.map((s) => s.end()));
  const counts = windowCalls(probe, started, ended, users);
  const rate = emulator.tencent.rate()[API];
  const latencies = probe.latencies.sort((a, b) => a - b);
  const row: Row = {
    sessions: count,
    callsPerSecond: counts.reduce((a, b) => a + b, 0) / ((ended - started) / 1000),
    rejections: rate?.rejected ?? 0,
    busiest: rate?.busiestWindow ?? 0,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    fairness: jain(counts),
    heapPerSession,
    exact: exactShare(
      emulator,
      users,
      sessions.map((s) => s.text),
    ),
  };
  await im.close();
  return row;
}

/** What a user writes without imbot: one awaited send_stream_msg per token, errors logged and skipped. */
async function runNaive(emulator: Emulator, count: number): Promise<Row> {
  emulator.reset();
  const users = Array.from({ length: count }, (_, i) => `user${i}`);
  const probe = new LatencyProbe(emulator);
  const usersig = genUserSig({
    sdkAppId: app.sdkAppId,
    secretKey: app.secretKey,
    userId: app.admin,
    expireSeconds: 3600,
  });
  const send = async (body: Record<string, unknown>) => {
    const url = `${emulator.url}/v4/${API}?sdkappid=${app.sdkAppId}&identifier=${app.admin}&usersig=${usersig}&random=${Math.floor(Math.random() * 2 ** 32)}&contenttype=json`;
    const response = await fetch(url, { method: 'POST', body: JSON.stringify(body) });
    return (await response.json()) as { ErrorCode: number; MsgKey?: string };
  };
  const queues = users.map(() => [] as string[]);
  const texts = users.map(() => '');
  let producing = true;
  const consumers = users.map(async (to, i) => {
    let msgKey: string | undefined;
    const queue = queues[i] as string[];
    while (producing || queue.length > 0) {
      const chunk = queue.shift();
      if (chunk === undefined) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        continue;
      }
      const last = !producing && queue.length === 0;
      const answer = await send({
        From_Account: BOT,
        To_Account: to,
        Chunk: chunk,
        MsgKey: msgKey,
        Finish: last ? 1 : undefined,
      });
      if (answer.ErrorCode === 0) msgKey = answer.MsgKey;
    }
  });
  const started = performance.now();
  await writeFor(count, (s, n) => {
    const text = token(s, n);
    probe.wrote(users[s] as string, text);
    texts[s] += text;
    queues[s]?.push(text);
  });
  const ended = started + SECONDS * 1000;
  producing = false;
  await Promise.all(consumers);
  const counts = windowCalls(probe, started, ended, users);
  const latencies = probe.latencies.sort((a, b) => a - b);
  return {
    sessions: count,
    callsPerSecond: counts.reduce((a, b) => a + b, 0) / ((ended - started) / 1000),
    rejections: emulator.tencent.rate()[API]?.rejected ?? 0,
    busiest: emulator.tencent.rate()[API]?.busiestWindow ?? 0,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    fairness: jain(counts),
    heapPerSession: undefined,
    exact: exactShare(emulator, users, texts),
  };
}

const ms = (v: number) =>
  Number.isNaN(v) ? 'n/a' : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${Math.round(v)} ms`;
const pct = (v: number) => `${Math.round(v * 100)} %`;

async function main(): Promise<void> {
  if (!gc) console.error('(run with node --expose-gc for heap figures)');
  const emulator = await startEmulator({ tencent: { ...app, robots: [BOT] } });
  const rows: [Row, Row][] = [];
  for (const count of SESSION_COUNTS) {
    process.stderr.write(`S=${count}: imbot… `);
    const imbot = await runImbot(emulator, count);
    process.stderr.write('naive… ');
    const naive = await runNaive(emulator, count);
    process.stderr.write('done\n');
    rows.push([imbot, naive]);
  }
  await emulator.close();

  console.log(
    `\nStream sessions, ${SECONDS} s at ${TOKENS_PER_SECOND} tokens/s per session, emulator limit ${BUDGET} calls/s (Node ${process.version})\n`,
  );
  console.log(
    '| S | calls/s (budget used) | busiest second | rejections | token→server p50 / p99 | p99 bound | fairness | heap/session | exact | naive: calls/s | naive: rejections | naive: p50 / p99 | naive: exact |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const [a, b] of rows) {
    const bound = 1500 * (a.sessions / BUDGET) + 100;
    console.log(
      `| ${a.sessions} | ${a.callsPerSecond.toFixed(1)} (${pct(a.callsPerSecond / BUDGET)}) | ${a.busiest} | ${a.rejections} | ${ms(a.p50)} / ${ms(a.p99)} | ${ms(bound)} | ${a.fairness.toFixed(4)} | ${a.heapPerSession === undefined ? 'n/a' : `${(a.heapPerSession / 1024).toFixed(1)} KiB`} | ${pct(a.exact)} | ${b.callsPerSecond.toFixed(1)} | ${b.rejections} | ${ms(b.p50)} / ${ms(b.p99)} | ${pct(b.exact)} |`,
    );
  }
  console.log('\nRatios, imbot against the naive baseline on the same run:');
  for (const [a, b] of rows) {
    console.log(
      `  S=${a.sessions}: p99 latency ×${(a.p99 / b.p99).toFixed(3)}, rejections ${a.rejections} vs ${b.rejections}, exact ${pct(a.exact)} vs ${pct(b.exact)}`,
    );
  }
}

await main();
