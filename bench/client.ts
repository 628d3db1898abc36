/**
 * The request path at its limits, in two parts.
 *
 * Overhead: N `getAllRobots()` calls at concurrency C against a server in its own process that
 * answers at once (`bench/answer-server.ts`), made four ways in the same rounds, interleaved:
 * - plain: an undici `Pool` loop sending the same requests (the URL with a UserSig and a fresh
 *   random, a JSON body, `JSON.parse` of the answer): the floor any client pays;
 * - imbot: `TencentIm` with `rateLimit: false`;
 * - imbot + limiter: `TencentIm` with an `InMemoryRateLimiter` too large to ever make a call wait,
 *   so its bookkeeping is all that is added;
 * - imbot + OpenTelemetry SDK meter: `rateLimit: false`, its metrics recorded by the SDK.
 * Throughput is calls per second of wall time; CPU per call is this process's user + system time
 * over the calls. Each round runs the variants in turns of a sixth of their calls; medians of the
 * rounds. Client and server are pinned to a CPU each where `taskset` exists.
 *
 * Budget: S stream sessions of the robot stream API write tokens for T seconds against the emulator
 * in its own process, with its latency model at round trips of 0, 50, 100 and 200 ms (20 % jitter),
 * spent before the call is applied, after it, or split. Each round runs the limiter with the round
 * trip learnt and with the answer-bound rule (`floorRoundTripMs: 0`), interleaved. The table shows
 * the share of the cloud's 200 calls/s used in steady state (from the third second to the end,
 * between the latest calls the cloud had applied at each) and the calls it refused. The conversations
 * start one by one over the first second, as people's do.
 *
 * Cold start: a fresh process importing the built `@imbot/core`, beside one importing undici alone.
 *
 *   npm run bench:client -- [--part startup|overhead|budget|all] [--calls 60000] [--concurrency 64] [--rounds 5]
 *                     [--seconds 10] [--sessions 200] [--rtts 0,50,100,200]
 */

import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { genUserSig, InMemoryRateLimiter, type RateLimiter, TencentIm } from '@imbot/core';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { Pool } from 'undici';
import { startEmulatorProcess, startListening } from './emulator-process.js';

const { values } = parseArgs({
  options: {
    part: { type: 'string', default: 'all' },
    calls: { type: 'string', default: '60000' },
    concurrency: { type: 'string', default: '64' },
    rounds: { type: 'string', default: '5' },
    starts: { type: 'string', default: '9' },
    seconds: { type: 'string', default: '10' },
    sessions: { type: 'string', default: '200' },
    rtts: { type: 'string', default: '0,50,100,200' },
  },
});
const CALLS = Number(values.calls);
const CONCURRENCY = Number(values.concurrency);
const ROUNDS = Number(values.rounds);
const STARTS = Number(values.starts);
const SECONDS = Number(values.seconds);
const SESSIONS = Number(values.sessions);
const RTTS = (values.rtts as string).split(',').map(Number);
const BUDGET = 200;

const app = { sdkAppId: 1400000000, secretKey: 'bench-secret-key', admin: 'administrator' };
const BOT = '@RBT#bench';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/** Runs `call` `count` times, `CONCURRENCY` at a time; the wall and CPU time it took, in µs. */
async function measure(call: () => Promise<unknown>, count: number): Promise<{ wall: number; cpu: number }> {
  let next = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < count) await call();
    }),
  );
  const used = process.cpuUsage(cpu);
  return { wall: (performance.now() - started) * 1000, cpu: used.user + used.system };
}

/** Pins a process to one CPU where `taskset` exists, so that client and server never share one. */
function pin(pid: number, cpu: number): void {
  try {
    execFileSync('taskset', ['-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
  } catch {
    // No taskset, or one CPU: the figures are noisier, not wrong.
  }
}

async function overhead(): Promise<void> {
  const { url, child } = await startListening('bench/answer-server.ts', []);
  pin(process.pid, 0);
  if (child.pid !== undefined) pin(child.pid, 1);
  const userSig = genUserSig({
    sdkAppId: app.sdkAppId,
    secretKey: app.secretKey,
    userId: app.admin,
    expireSeconds: 86_400,
  });
  const pool = new Pool(url, { connections: 128 });
  const plain = async () => {
    const random = (Math.random() * 2 ** 32) >>> 0;
    const path = `/v4/openim_robot_http_svc/get_all_robots?sdkappid=${app.sdkAppId}&identifier=${app.admin}&usersig=${userSig}&random=${random}&contenttype=json`;
    const answer = await pool.request({
      path,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    const json = JSON.parse(await answer.body.text()) as { ErrorCode: number };
    if (json.ErrorCode !== 0) throw new Error('refused');
  };
  const bare = new TencentIm({ ...app, baseUrl: url, rateLimit: false });
  const limited = new TencentIm({
    ...app,
    baseUrl: url,
    rateLimit: new InMemoryRateLimiter({ limit: 1_000_000_000 }),
  });
  // Metrics into an OpenTelemetry SDK meter provider, read by a reader nobody asks: the cost of
  // recording, as an app with metrics on pays it.
  const reader = new (class extends MetricReader {
    protected override async onForceFlush(): Promise<void> {}
    protected override async onShutdown(): Promise<void> {}
  })();
  const metered = new TencentIm({
    ...app,
    baseUrl: url,
    rateLimit: false,
    meter: new MeterProvider({ readers: [reader] }).getMeter('bench'),
  });
  const variants: [string, () => Promise<unknown>][] = [
    ['plain undici Pool', plain],
    ['imbot, rateLimit: false', () => bare.getAllRobots()],
    ['imbot + limiter', () => limited.getAllRobots()],
    ['imbot + OpenTelemetry SDK meter', () => metered.getAllRobots()],
  ];
  // One warm-up pass each: connections opened, code optimised.
  for (const [, call] of variants) for (let i = 0; i < 2000; i++) await call();
  const results = new Map<string, { perSecond: number; cpuMicros: number }[]>();
  // A round runs each variant's calls in 6 slices, the variants taking turns slice by slice (each
  // round starting with the next one), so that a slow spell of the machine falls on all alike.
  const SLICES = 6;
  const slice = Math.ceil(CALLS / SLICES);
  for (let round = 0; round < ROUNDS; round++) {
    const spent = new Map<string, { wall: number; cpu: number }>();
    for (let s = 0; s < SLICES; s++) {
      for (let k = 0; k < variants.length; k++) {
        const [name, call] = variants[(round + s + k) % variants.length] as [string, () => Promise<unknown>];
        const took = await measure(call, slice);
        const sum = spent.get(name) ?? { wall: 0, cpu: 0 };
        spent.set(name, { wall: sum.wall + took.wall, cpu: sum.cpu + took.cpu });
      }
    }
    for (const [name, { wall, cpu }] of spent) {
      const calls = slice * SLICES;
      const row = { perSecond: calls / (wall / 1e6), cpuMicros: cpu / calls };
      results.set(name, [...(results.get(name) ?? []), row]);
    }
  }
  const base = results.get('plain undici Pool') as { perSecond: number; cpuMicros: number }[];
  const basePerSecond = median(base.map((r) => r.perSecond));
  const baseCpu = median(base.map((r) => r.cpuMicros));
  console.log(`\n${CALLS} calls at concurrency ${CONCURRENCY}, median of ${ROUNDS} interleaved rounds\n`);
  console.log('| client | calls/s | vs plain | CPU µs per call | vs plain |');
  console.log('|---|---:|---:|---:|---:|');
  for (const [name, rows] of results) {
    const perSecond = median(rows.map((r) => r.perSecond));
    const cpu = median(rows.map((r) => r.cpuMicros));
    console.log(
      `| ${name} | ${perSecond.toFixed(0)} | ${(perSecond / basePerSecond).toFixed(2)}× | ${cpu.toFixed(1)} | ${(cpu / baseCpu).toFixed(2)}× |`,
    );
  }
  await bare.close();
  await limited.close();
  await metered.close();
  await pool.close();
  child.kill();
}

type Split = 'before' | 'after' | 'split';

/** One budget run: the share of the budget used in steady state, and the calls refused. */
async function budgetRun(
  emulator: Awaited<ReturnType<typeof startEmulatorProcess>>,
  rtt: number,
  split: Split,
  floorRoundTripMs: number | undefined,
): Promise<{ used: number; rejected: number }> {
  await emulator.reset();
  await emulator.configureFaults(
    rtt === 0 ? {} : { latencyMs: rtt * 0.9, jitterMs: rtt * 0.2, latencySplit: split, seed: 7 },
  );
  const limiter: RateLimiter = new InMemoryRateLimiter(
    floorRoundTripMs === undefined ? { limit: BUDGET } : { limit: BUDGET, floorRoundTripMs },
  );
  const im = new TencentIm({ ...app, baseUrl: emulator.url, rateLimit: limiter, connections: 256 });
  const sessions = Array.from({ length: SESSIONS }, (_, i) =>
    im.openStream({ from: BOT, to: `user${i}` }, { minIntervalMs: 200 }),
  );
  // Conversations start one by one over the first window, as people's do: no burst to measure around.
  const started = performance.now();
  const timer = setInterval(() => {
    const open = Math.min(SESSIONS, Math.floor(((performance.now() - started) / 1000) * SESSIONS));
    for (let i = 0; i < open; i++) sessions[i]?.write(`word${i} `);
  }, 20);
  const read = async () => (await emulator.rate('tencent'))['openim_robot_http_svc/send_stream_msg'];
  // Steady state: from the third second (the limiter has learnt the route by then) to the end.
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const from = await read();
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000 - (performance.now() - started)));
  const to = await read();
  clearInterval(timer);
  await Promise.all(sessions.map((s) => s.end()));
  await im.close();
  const spanSeconds = ((to?.lastAt ?? 0) - (from?.lastAt ?? 0)) / 1000;
  const accepted = (to?.accepted ?? 0) - (from?.accepted ?? 0);
  return {
    used: spanSeconds > 0 ? accepted / spanSeconds / BUDGET : 0,
    rejected: (await read())?.rejected ?? 0,
  };
}

async function budget(): Promise<void> {
  const emulator = await startEmulatorProcess({ robots: [BOT], secretKey: app.secretKey });
  const configs: [number, Split][] = RTTS.flatMap((rtt) =>
    rtt === 0
      ? [[0, 'after'] as [number, Split]]
      : (['before', 'after', 'split'] as Split[]).map((s) => [rtt, s] as [number, Split]),
  );
  console.log(
    `\n${SESSIONS} stream sessions, ${SECONDS} s each, 200 calls/s budget, 20 % jitter; median of ${ROUNDS} interleaved rounds\n`,
  );
  console.log(
    '| round trip | latency spent | budget used (learnt round trip) | refused | budget used (answer-bound) | refused |',
  );
  console.log('|---:|---|---:|---:|---:|---:|');
  for (const [rtt, split] of configs) {
    const learnt: { used: number; rejected: number }[] = [];
    const answerBound: { used: number; rejected: number }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      learnt.push(await budgetRun(emulator, rtt, split, undefined));
      answerBound.push(await budgetRun(emulator, rtt, split, 0));
    }
    const cell = (rows: { used: number; rejected: number }[]) =>
      `${(median(rows.map((r) => r.used)) * 100).toFixed(1)} % | ${median(rows.map((r) => r.rejected))}`;
    const where =
      rtt === 0 ? '—' : split === 'split' ? 'half before, half after' : `${split} the call is applied`;
    console.log(`| ${rtt} ms | ${where} | ${cell(learnt)} | ${cell(answerBound)} |`);
  }
  await emulator.close();
}

/** Milliseconds a fresh Node process takes to import `specifier`, from `cwd` (one child each time). */
function importMs(specifier: string, cwd: string): number {
  const script = `const t = performance.now(); await import('${specifier}'); console.log(performance.now() - t);`;
  return Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd }).toString());
}

/**
 * Cold start: importing the built `@imbot/core` (what a bot that runs as a function pays before it
 * can answer its first webhook) in a fresh process, interleaved with importing undici alone, the
 * plain loop's own start. Medians of `STARTS` runs each.
 */
async function startup(): Promise<void> {
  const core = fileURLToPath(new URL('../packages/core/', import.meta.url));
  const imbot: number[] = [];
  const plain: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    imbot.push(importMs('@imbot/core', core));
    plain.push(importMs('undici', core));
  }
  console.log(`\nCold start: a fresh process importing the built package, median of ${STARTS}\n`);
  console.log('| import | ms |');
  console.log('|---|---:|');
  console.log(`| undici (the plain loop's start) | ${median(plain).toFixed(0)} |`);
  console.log(`| @imbot/core | ${median(imbot).toFixed(0)} |`);
}

if (values.part === 'startup' || values.part === 'all') await startup();
if (values.part === 'overhead' || values.part === 'all') await overhead();
if (values.part === 'budget' || values.part === 'all') await budget();
