/**
 * Stream sessions under load, against the emulator (in its own process) with the cloud's
 * 200 calls/s limit on.
 *
 * S conversations each produce 30 tokens/s for 10 s. Three ways of delivering them run in the same
 * rounds, interleaved, and the table shows the median of the rounds:
 * - imbot: one stream session per conversation, fed by write(), ended at the end;
 * - naive: one awaited send_stream_msg per token, a refused token sent again 100 ms later;
 * - throttle: each conversation flushes its buffer every 500 ms on its own (as other chat SDKs do),
 *   refused text going back into the buffer.
 * All three share one connection pool size and end each conversation with a closing call. What has
 * not arrived 30 s after the writers stopped (90 s for imbot, which must finish) is counted as lost.
 *
 * What the emulator applied is followed through its event stream: latency is measured from the
 * write of a token to the moment the text the user sees first holds it, checked against an
 * independent record of what was written; exactness compares what the user sees with that record.
 *
 * A fourth way, `typing`, is imbot with the typing signal on (`typing: true`): each session first
 * tells its user the bot is typing (Tencent `sendmsg`, online only) until its first text. Run it
 * beside `imbot` to see what typing costs the text: `--sessions 1000 --variants imbot,typing`.
 *
 * Last, a line of CPU per token with markdown holdback on and off: stream sessions in this process
 * fed a markdown answer, delivered by a transport that answers at once, interleaved, medians.
 *
 * Then the groups: 30 answers at once in one Tencent group and 40 RongCloud answers over 20 groups
 * (`--group-seconds 5` of writing each; `--groups-only` runs just them), judged from the call log.
 *
 *   npm run bench:stream -- [--seconds 10] [--sessions 1,50,200,1000,5000,10000] [--rounds 3]
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import {
  genUserSig,
  InMemoryRateLimiter,
  RongCloud,
  StreamSession,
  type StreamTransport,
  TencentIm,
} from '@imbot/core';
import { keepAliveCapacity, STREAM_IDLE_LIMIT_MS } from '@imbot/core/internal';
import { busiestWindow } from '@imbot/emulator';
import { Pool, request as undiciRequest } from 'undici';
import { StreamScheduler } from '../packages/core/src/stream/scheduler.js';
import { Delivery, jain, median, ms, pct, percentile, produce, sleep, token, within } from './delivery.js';
import { type EmulatorProcess, startEmulatorProcess } from './emulator-process.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    sessions: { type: 'string', default: '1,50,200,1000,5000,10000' },
    rounds: { type: 'string', default: '3' },
    'tokens-per-second': { type: 'string', default: '30' },
    variants: { type: 'string', default: 'imbot,naive,throttle' },
    'markdown-tokens': { type: 'string', default: '200000' },
    'markdown-only': { type: 'boolean', default: false },
    'group-seconds': { type: 'string', default: '5' },
    'groups-only': { type: 'boolean', default: false },
  },
});
const SECONDS = Number(values.seconds);
const SESSION_COUNTS = (values.sessions as string).split(',').map(Number);
const ROUNDS = Number(values.rounds);
const TOKENS_PER_SECOND = Number(values['tokens-per-second']);
const VARIANTS = (values.variants as string).split(',') as Variant[];
const BUDGET = 200;
/** How long a way may take to deliver after the writers stop: imbot must finish; the baselines are cut off. */
const DRAIN_MS: Record<Variant, number> = { imbot: 90_000, typing: 90_000, naive: 30_000, throttle: 30_000 };
const CONNECTIONS = 256;
const MIN_INTERVAL_MS = 200;

const app = { sdkAppId: 1400000000, secretKey: 'bench-secret-key', admin: 'administrator' };
const BOT = '@RBT#bench';
const API = 'openim_robot_http_svc/send_stream_msg';

type Variant = 'imbot' | 'typing' | 'naive' | 'throttle';

interface Row {
  /** Typing signals the emulator applied and refused (`sendmsg`). */
  typingCalls: number;
  typingRejections: number;
  callsPerSecond: number;
  rejections: number;
  busiest: number;
  p50: number;
  p99: number;
  fairness: number;
  exact: number;
  lost: number;
  abandoned: number;
  loopP99: number;
  loopMax: number;
}

interface Run {
  write(session: number, text: string): void;
  /** Ends every session; resolves when all are done. */
  end(): Promise<unknown>;
  stop(): Promise<void>;
}

function imbotRun(emulator: EmulatorProcess, users: string[], typing = false): Run {
  const im = new TencentIm({ ...app, baseUrl: emulator.url, connections: CONNECTIONS });
  const sessions = users.map((to) =>
    im.openStream({ from: BOT, to }, { idleTimeoutMs: 120_000, minIntervalMs: MIN_INTERVAL_MS, typing }),
  );
  return {
    write: (s, text) => void sessions[s]?.write(text),
    end: () => Promise.all(sessions.map((s) => s.end())),
    stop: () => im.close(),
  };
}

/** The REST call the baselines make by hand: the same URL, signature and pool size as the client. */
function rawClient(emulator: EmulatorProcess) {
  const pool = new Pool(emulator.url, {
    connections: CONNECTIONS,
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  const usersig = genUserSig({ ...app, userId: app.admin, expireSeconds: 3600 });
  const send = async (body: Record<string, unknown>) => {
    const path = `/v4/${API}?sdkappid=${app.sdkAppId}&identifier=${app.admin}&usersig=${usersig}&random=${Math.floor(Math.random() * 2 ** 32)}&contenttype=json`;
    try {
      const answer = await pool.request({ method: 'POST', path, body: JSON.stringify(body) });
      return (await answer.body.json()) as { ErrorCode: number; MsgKey?: string };
    } catch {
      return { ErrorCode: -1 };
    }
  };
  /** One send_stream_msg of a conversation: opens its message without `msgKey`, closes it with `last`. */
  const streamChunk = (to: string, chunk: string, msgKey: string | undefined, last: boolean) =>
    send({ From_Account: BOT, To_Account: to, Chunk: chunk, MsgKey: msgKey, Finish: last ? 1 : undefined });
  return { streamChunk, close: () => pool.close() };
}

/** The baselines' common part: per-conversation loops that run until the writers stop and they drain. */
function baselineRun(
  raw: ReturnType<typeof rawClient>,
  state: { producing: boolean; stopped: boolean },
  loops: Promise<unknown>[],
  write: Run['write'],
): Run {
  return {
    write,
    end: () => {
      state.producing = false;
      return Promise.all(loops);
    },
    stop: async () => {
      state.stopped = true;
      await Promise.allSettled(loops);
      await raw.close();
    },
  };
}

/** One awaited call per token; a refused token is sent again 100 ms later; the last one closes. */
function naiveRun(emulator: EmulatorProcess, users: string[]): Run {
  const raw = rawClient(emulator);
  const queues = users.map(() => [] as string[]);
  const state = { producing: true, stopped: false };
  const consumers = users.map(async (to, i) => {
    let msgKey: string | undefined;
    const queue = queues[i] as string[];
    while (!state.stopped && (state.producing || queue.length > 0)) {
      const chunk = queue[0];
      if (chunk === undefined) {
        await sleep(5);
        continue;
      }
      const answer = await raw.streamChunk(to, chunk, msgKey, !state.producing && queue.length === 1);
      if (answer.ErrorCode === 0) {
        msgKey = answer.MsgKey;
        queue.shift();
      } else await sleep(100);
    }
  });
  return baselineRun(raw, state, consumers, (s, text) => void queues[s]?.push(text));
}

/** Each conversation flushes its buffer every 500 ms on its own; refused text stays in the buffer. */
function throttleRun(emulator: EmulatorProcess, users: string[]): Run {
  const raw = rawClient(emulator);
  const buffers = users.map(() => '');
  const state = { producing: true, stopped: false };
  const flushers = users.map(async (to, i) => {
    let msgKey: string | undefined;
    await sleep((i * 500) / users.length);
    while (!state.stopped) {
      await sleep(500);
      const last = !state.producing;
      const buffer = buffers[i] as string;
      // The closing call must carry text, so the last character waits for the end, as imbot's does.
      const lastChar = Array.from(buffer.slice(-2)).at(-1) ?? '';
      const chunk = last ? buffer : buffer.slice(0, buffer.length - lastChar.length);
      if (chunk === '' && !last) continue;
      if (chunk === '' && msgKey === undefined) return;
      const answer = await raw.streamChunk(to, chunk, msgKey, last);
      if (answer.ErrorCode === 0) {
        msgKey = answer.MsgKey;
        buffers[i] = (buffers[i] as string).slice(chunk.length);
        if (last) return;
      }
    }
  });
  return baselineRun(raw, state, flushers, (s, text) => {
    buffers[s] += text;
  });
}

const runners: Record<Variant, (emulator: EmulatorProcess, users: string[]) => Run> = {
  imbot: (emulator, users) => imbotRun(emulator, users),
  typing: (emulator, users) => imbotRun(emulator, users, true),
  naive: naiveRun,
  throttle: throttleRun,
};

async function measure(emulator: EmulatorProcess, variant: Variant, count: number): Promise<Row> {
  await emulator.reset();
  const users = Array.from({ length: count }, (_, i) => `user${i}`);
  const record = new Delivery(BOT, users);
  const unfollow = await emulator.follow((event, at) => record.applied(event, at));
  const run = runners[variant](emulator, users);
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const started = performance.now();
  await produce(count, { seconds: SECONDS, perSecond: TOKENS_PER_SECOND }, (s, n) => {
    const text = token(s, n);
    record.wrote(s, text);
    run.write(s, text);
  });
  const ended = started + SECONDS * 1000;
  await within([run.end()], DRAIN_MS[variant]);
  await run.stop();
  loop.disable();
  await sleep(300); // the last events on their way
  unfollow();
  const counts = record.callTimes.map((times) => times.filter((t) => t >= started && t <= ended).length);
  const rates = await emulator.rate('tencent');
  const rate = rates[API];
  const typing = rates['openim/sendmsg'];
  const latencies = record.latencies.sort((a, b) => a - b);
  return {
    typingCalls: typing?.accepted ?? 0,
    typingRejections: typing?.rejected ?? 0,
    callsPerSecond: counts.reduce((a, b) => a + b, 0) / SECONDS,
    rejections: rate?.rejected ?? 0,
    busiest: rate?.busiestWindow ?? 0,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    fairness: jain(counts),
    exact: record.exact(),
    lost: record.lost(),
    abandoned: record.abandoned(),
    loopP99: loop.percentile(99) / 1e6,
    loopMax: loop.max / 1e6,
  };
}

/**
 * The p99 the design promises. Up to the number of messages the budget keeps alive (R × 15 s × 0.6),
 * every session gets a call each S/R seconds, and never sooner than `minIntervalMs` after its last:
 * 1.5 × max(S/R, minInterval) + 100 ms. Past it, sessions wait to open their message until the
 * writing ends and then close in one call each: the writing time plus S/R.
 */
function p99Bound(count: number): number {
  const capacity = keepAliveCapacity(BUDGET, STREAM_IDLE_LIMIT_MS);
  const cycle = Math.max((count / BUDGET) * 1000, MIN_INTERVAL_MS);
  return count <= capacity ? 1.5 * cycle + 100 : SECONDS * 1000 + (count / BUDGET) * 1000;
}

async function main(): Promise<void> {
  const emulator = await startEmulatorProcess({ robots: [BOT], secretKey: app.secretKey });
  const results = new Map<string, Row[]>();
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      for (const count of SESSION_COUNTS) {
        for (const variant of VARIANTS) {
          process.stderr.write(`round ${round}, S=${count}, ${variant}… `);
          const row = await measure(emulator, variant, count);
          process.stderr.write(
            `${row.callsPerSecond.toFixed(1)} calls/s, p99 ${ms(row.p99)}, exact ${pct(row.exact)}\n`,
          );
          const key = `${variant}:${count}`;
          results.set(key, [...(results.get(key) ?? []), row]);
        }
      }
    }
  } finally {
    await emulator.close();
  }
  const med = (variant: Variant, count: number): Row | undefined => {
    const rows = results.get(`${variant}:${count}`);
    if (!rows) return undefined;
    const pick = (f: (r: Row) => number) => median(rows.map(f));
    return {
      typingCalls: pick((r) => r.typingCalls),
      typingRejections: pick((r) => r.typingRejections),
      callsPerSecond: pick((r) => r.callsPerSecond),
      rejections: pick((r) => r.rejections),
      busiest: pick((r) => r.busiest),
      p50: pick((r) => r.p50),
      p99: pick((r) => r.p99),
      fairness: pick((r) => r.fairness),
      exact: pick((r) => r.exact),
      lost: pick((r) => r.lost),
      abandoned: pick((r) => r.abandoned),
      loopP99: pick((r) => r.loopP99),
      loopMax: pick((r) => r.loopMax),
    };
  };

  console.log(
    `\nStream sessions: ${SECONDS} s at ${TOKENS_PER_SECOND} tokens/s per session, emulator limit ${BUDGET} calls/s, medians of ${ROUNDS} interleaved rounds (Node ${process.version})\n`,
  );
  console.log(
    '| S | way | calls/s (budget) | rejections | token→user p50 / p99 | p99 bound | fairness | exact | lost tokens | abandoned | event loop p99 / max |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const count of SESSION_COUNTS) {
    for (const variant of VARIANTS) {
      const r = med(variant, count);
      if (!r) continue;
      const bound = variant === 'imbot' || variant === 'typing' ? ms(p99Bound(count)) : '';
      const way =
        variant === 'typing'
          ? `imbot + typing (${r.typingCalls} signals, ${r.typingRejections} refused)`
          : variant;
      console.log(
        `| ${count} | ${way} | ${r.callsPerSecond.toFixed(1)} (${pct(r.callsPerSecond / BUDGET)}) | ${r.rejections} | ${ms(r.p50)} / ${ms(r.p99)} | ${bound} | ${r.fairness.toFixed(4)} | ${pct(r.exact)} | ${pct(r.lost)} | ${r.abandoned} | ${ms(r.loopP99)} / ${ms(r.loopMax)} |`,
      );
    }
  }
}

/** A markdown answer as a model streams it: prose, links, inline code, a table and a fenced block. */
const MARKDOWN_TOKENS = (
  'Here is **the plan** for [the release](https://example.com/releases/4.2) of `imbot`:\n\n' +
  '| step | owner | when |\n| --- | --- | --- |\n| build | CI | today |\n| ship | Ana | Friday |\n\n' +
  '```ts\nconst session = im.openStream({ from, to });\nawait session.pipeFrom(textStream);\n```\n' +
  'See ![the chart](https://example.com/chart.png) and run `npm run bench:stream` to check. '
).split(/(?<=[ \n|`\])])/);

/** A transport that answers every call at once: only the session's own work is measured. */
class InstantTransport implements StreamTransport {
  readonly rateKey = 'cpu';
  readonly maxMessageBytes = 128 * 1024;
  readonly maxPlainBytes = 1000;
  readonly minCallIntervalMs = 0;
  readonly emptyFinalChunk = true;
  readonly idleLimitMs = 15_000;
  async send(): Promise<{ messageId: string }> {
    return { messageId: 'm' };
  }
  next(): void {}
  async sendPlain(): Promise<void> {}
  snapshot(): undefined {
    return undefined;
  }
  resume(): void {}
}

/**
 * CPU microseconds per token of stream sessions fed `tokens` tokens of markdown, holdback on or off,
 * and the calls they made per 100 tokens (held text joins the next call).
 */
async function cpuPerToken(markdown: boolean, tokens: number): Promise<{ cpu: number; calls: number }> {
  const scheduler = new StreamScheduler(new InMemoryRateLimiter({ limit: 1_000_000 }));
  const sessions = Array.from(
    { length: 100 },
    () =>
      new StreamSession(new InstantTransport(), scheduler, { minIntervalMs: 0, markdown, keepText: false }),
  );
  const start = process.cpuUsage();
  for (let n = 0; n < tokens; ) {
    for (const session of sessions) session.write(MARKDOWN_TOKENS[n++ % MARKDOWN_TOKENS.length] as string);
    await new Promise((resolve) => setImmediate(resolve));
  }
  const finished = await Promise.all(sessions.map((s) => s.end()));
  const used = process.cpuUsage(start);
  const calls = finished.reduce((sum, f) => sum + f.calls, 0);
  return { cpu: (used.user + used.system) / tokens, calls: (calls * 100) / tokens };
}

async function markdownLine(): Promise<void> {
  const tokens = Number(values['markdown-tokens']);
  const on: { cpu: number; calls: number }[] = [];
  const off: { cpu: number; calls: number }[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    off.push(await cpuPerToken(false, tokens));
    on.push(await cpuPerToken(true, tokens));
  }
  const cpu = (runs: { cpu: number }[]) => median(runs.map((r) => r.cpu));
  const calls = (runs: { calls: number }[]) => median(runs.map((r) => r.calls));
  const line = (runs: { cpu: number; calls: number }[]) =>
    `${cpu(runs).toFixed(2)} µs per token, ${calls(runs).toFixed(1)} calls per 100 tokens, ${((cpu(runs) * 100) / calls(runs)).toFixed(1)} µs per call`;
  console.log(
    `\nMarkdown holdback, CPU (${tokens} tokens over 100 sessions, medians of ${ROUNDS} interleaved rounds): off ${line(off)}; on ${line(on)}`,
  );
}

/**
 * Answers that share a group's budget: 30 answers streaming at once into one Tencent group (40
 * messages a second in a group) and 40 RongCloud answers over 20 groups (20 group messages a second
 * for the whole app, counted per target group), each writing `tokens-per-second` for `group-seconds`.
 * Judged from the emulator's call log: refusals, each group's and each API's busiest second (sliding,
 * by arrival), every answer exact and finished, and how long the answers took against the bound
 * their limit implies: the writing time, plus one closing call per answer at the limit's rate.
 */
const GROUP_SECONDS = Number(values['group-seconds']);

interface LoggedCall {
  time: number;
  api: string;
  body: Record<string, unknown>;
  errorCode?: number;
  status?: number;
}

/** The most calls arriving in any 1 s window, by the key `keyOf` gives each (undefined: not counted). */
function peaks(
  calls: readonly LoggedCall[],
  keyOf: (call: LoggedCall) => string | undefined,
): Map<string, number> {
  const byKey = new Map<string, LoggedCall[]>();
  for (const call of calls) {
    const key = keyOf(call);
    if (key !== undefined) byKey.set(key, [...(byKey.get(key) ?? []), call]);
  }
  return new Map([...byKey].map(([key, keyed]) => [key, busiestWindow(keyed, 1000)]));
}

async function emulatorGet<T>(url: string, path: string): Promise<T> {
  const answer = await undiciRequest(`${url}/_emulator/${path}`);
  return (await answer.body.json()) as T;
}

/**
 * Streams `answers` (each: a session and its label) at the bench's token rate, then ends them; what
 * each wrote, and how long the answers took to finish once the writing stopped.
 */
async function streamAnswers(
  sessions: { session: StreamSession; label: string }[],
): Promise<{ written: Map<string, string>; drainMs: number }> {
  const written = new Map<string, string>();
  const ticks = GROUP_SECONDS * TOKENS_PER_SECOND;
  for (let n = 0; n < ticks; n++) {
    for (const { session, label } of sessions) {
      const text = `${label}.${n} `;
      written.set(label, (written.get(label) ?? '') + text);
      session.write(text);
    }
    await sleep(1000 / TOKENS_PER_SECOND);
  }
  const stopped = performance.now();
  await Promise.all(sessions.map(({ session }) => session.end()));
  return { written, drainMs: performance.now() - stopped };
}

async function groupLine(): Promise<void> {
  const emulator = await startEmulatorProcess({ robots: [BOT], secretKey: app.secretKey });
  try {
    await emulator.reset();
    await undiciRequest(`${emulator.url}/_emulator/tencent/groups`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ groupId: 'crowd', type: 'Public', members: [BOT] }),
    });
    // Tencent: 30 answers into one group.
    const im = new TencentIm({ ...app, baseUrl: emulator.url, connections: CONNECTIONS });
    const tencent = await streamAnswers(
      Array.from({ length: 30 }, (_, i) => ({
        session: im.openStream({ from: BOT, groupId: 'crowd' }, { minIntervalMs: MIN_INTERVAL_MS }),
        label: `t${i}`,
      })),
    );
    await im.close();
    // RongCloud: 40 answers over 20 groups.
    const rong = new RongCloud({
      appKey: 'imbot-app-key',
      appSecret: 'imbot-app-secret',
      baseUrl: emulator.url,
    });
    const rongcloud = await streamAnswers(
      Array.from({ length: 40 }, (_, i) => ({
        session: rong.openStream(
          { from: 'bench-bot', groupId: `g${i % 20}` },
          { minIntervalMs: MIN_INTERVAL_MS },
        ),
        label: `r${i}`,
      })),
    );
    await rong.close();

    const tCalls = await emulatorGet<LoggedCall[]>(emulator.url, 'tencent/calls?limit=1000000');
    const rCalls = await emulatorGet<LoggedCall[]>(emulator.url, 'rongcloud/calls?limit=1000000');
    const tRefused = tCalls.filter((c) => (c.errorCode ?? 0) !== 0).length;
    const rRefused = rCalls.filter((c) => c.status !== 200).length;
    const tGroup = peaks(tCalls, (c) => (typeof c.body?.GroupId === 'string' ? c.body.GroupId : undefined));
    const tApi = peaks(tCalls, (c) => c.api);
    const rApp = peaks(rCalls, (c) => (c.api.includes('/group/') ? 'group/publish' : undefined));
    const rApi = peaks(rCalls, (c) => c.api);
    type Shown = { text: string; state: string };
    const exact = async (path: string, expected: string[]) => {
      const shown = await emulatorGet<Shown[]>(emulator.url, path);
      return { shown, expected };
    };
    const tShown = await exact('tencent/group?id=crowd', [...tencent.written.values()]);
    let tExact = 0;
    for (const text of tShown.expected)
      if (tShown.shown.some((m) => m.text === text && m.state === 'finished')) tExact++;
    let rExact = 0;
    for (let g = 0; g < 20; g++) {
      const expected = [...rongcloud.written.entries()].filter(
        ([label]) => Number(label.slice(1)) % 20 === g,
      );
      const { shown } = await exact(`rongcloud/group?id=g${g}`, []);
      for (const [, text] of expected)
        if (shown.some((m) => m.text === text && m.state === 'finished')) rExact++;
    }
    const max = (m: Map<string, number>) => Math.max(0, ...m.values());
    // Once the writing stops, each answer still makes its closing call: N of them at the group's rate.
    const tBound = (30 / 40) * 1000;
    const rBound = (40 / 20) * 1000;
    console.log(
      `\nGroups (${GROUP_SECONDS} s of writing at ${TOKENS_PER_SECOND} tokens/s per answer, one run):\n`,
    );
    console.log(
      '| scenario | calls | rejections | busiest second: per group / per API (limit) | exact and finished | finished after the writing (bound: answers ÷ limit, plus a round trip) |',
    );
    console.log('|---|---|---|---|---|---|');
    console.log(
      `| Tencent: 30 answers in one group | ${tCalls.length} | ${tRefused} | ${max(tGroup)} / ${max(tApi)} (40 / 200) | ${tExact} of 30 | ${ms(tencent.drainMs)} (${ms(tBound)}) |`,
    );
    console.log(
      `| RongCloud: 40 answers over 20 groups | ${rCalls.length} | ${rRefused} | ${max(rApp)} for the app / ${max(rApi)} (20 / 100) | ${rExact} of 40 | ${ms(rongcloud.drainMs)} (${ms(rBound)}) |`,
    );
  } finally {
    await emulator.close();
  }
}

if (values['groups-only']) await groupLine();
else {
  if (!values['markdown-only']) {
    await main();
    await groupLine();
  }
  await markdownLine();
}
