/**
 * Scale-out on Redis: 4 bot processes of one app, 250 streams each, 30 tokens/s for 10 s, against the
 * emulator in its own process (200 calls/s per API, as the cloud counts them). Scenarios:
 *
 * - `shared`: every process on one RedisRateLimiter budget (and a RedisStreamJournal);
 * - `in-memory`: the baseline in the same run, each process with its own in-memory limiter;
 * - `kill`: shared, and one process is killed with SIGKILL at 5 s: how long until every message it
 *   had open is finished by a surviving process (through the journal);
 * - `redis-restart`: shared, and Redis is stopped at 3 s and started again at 8 s.
 *
 * `shared` and `in-memory` alternate over `--rounds` rounds (medians); the others run once.
 *
 *   pnpm bench:scale-out [--rounds 3] [--scenarios shared,in-memory,kill,redis-restart]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startRedis } from '../packages/redis/test/redis-server.js';
import { startEmulatorProcess } from './emulator-process.js';
import { expectedText, SCALE_APP, SCALE_BOT } from './scale-out-worker.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    scenarios: { type: 'string', default: 'shared,in-memory,kill,redis-restart' },
  },
});
const ROUNDS = Number(values.rounds);
const SCENARIOS = new Set((values.scenarios as string).split(','));
const PROCESSES = 4;
const STREAMS = 250;
const TOKENS = 30;
const SECONDS = 10;
const BUDGET = 200;
const API = 'openim_robot_http_svc/send_stream_msg';
const root = fileURLToPath(new URL('..', import.meta.url));

type Scenario = 'shared' | 'in-memory' | 'kill' | 'redis-restart';
interface Outcome {
  rejections: number;
  busiestWindow: number;
  budgetUsed: number;
  jain: number;
  exact: number;
  failed: number;
  killedClosedMs?: number;
}

const redis = await startRedis();
const emulator = await startEmulatorProcess({ robots: [SCALE_BOT], secretKey: SCALE_APP.secretKey });

function worker(
  index: number,
  shared: boolean,
  prefix: string,
): {
  child: ChildProcess;
  started: Promise<void>;
  result: Promise<{ calls: number[]; failed: number } | undefined>;
} {
  const child = spawn(
    process.execPath,
    [
      '--conditions=@imbot/source',
      '--import',
      'tsx',
      'bench/scale-out-worker.ts',
      '--emulator',
      emulator.url,
      '--index',
      String(index),
      '--prefix',
      prefix,
      ...(shared ? ['--redis', redis.address] : []),
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  let onStarted: () => void = () => undefined;
  const started = new Promise<void>((resolve) => {
    onStarted = resolve;
  });
  child.stdout?.on('data', (data: Buffer) => {
    out += data.toString();
    if (out.includes('streaming')) onStarted();
  });
  const result = new Promise<{ calls: number[]; failed: number } | undefined>((resolve) => {
    child.once('exit', () => {
      const line = out.split('\n').find((l) => l.startsWith('{'));
      resolve(line ? JSON.parse(line) : undefined);
    });
  });
  return { child, started, result };
}

const jain = (xs: number[]) =>
  xs.reduce((a, b) => a + b, 0) ** 2 / (xs.length * xs.reduce((a, b) => a + b * b, 0));

async function run(scenario: Scenario, round: number): Promise<Outcome> {
  await emulator.reset();
  const shown = new Map<string, { text: string; state: string }>();
  const finishedAt = new Map<string, number>();
  let t0 = 0;
  let inWindow = 0;
  const unfollow = await emulator.follow((event, at) => {
    if (event.message.from !== SCALE_BOT) return;
    shown.set(event.message.to, { text: event.message.text, state: event.message.state });
    if (event.message.state === 'finished') finishedAt.set(event.message.to, at);
    if (t0 > 0 && at >= t0 && at < t0 + SECONDS * 1000) inWindow++;
  });
  const shared = scenario !== 'in-memory';
  const workers = Array.from({ length: PROCESSES }, (_, i) =>
    worker(i, shared, `bench-${scenario}-${round}`),
  );
  await Promise.all(workers.map((w) => w.started));
  t0 = performance.now();
  let killedAt = 0;
  const timers: NodeJS.Timeout[] = [];
  if (scenario === 'kill') {
    timers.push(
      setTimeout(() => {
        killedAt = performance.now();
        workers[0]?.child.kill('SIGKILL');
      }, 5000),
    );
  }
  if (scenario === 'redis-restart') {
    timers.push(setTimeout(() => void redis.stop(), 3000));
    timers.push(setTimeout(() => void redis.start(), 8000));
  }
  const results = await Promise.all(workers.map((w) => w.result));
  timers.forEach(clearTimeout);
  const users = Array.from(
    { length: PROCESSES * STREAMS },
    (_, k) => `p${Math.floor(k / STREAMS)}u${k % STREAMS}`,
  );
  const killedUsers = scenario === 'kill' ? users.filter((u) => u.startsWith('p0u')) : [];
  // Every message ends finished: the killed process's ones through another process's journal sweep.
  const deadline = performance.now() + 60_000;
  let killedClosedMs: number | undefined;
  while (performance.now() < deadline) {
    if (
      killedUsers.length > 0 &&
      killedClosedMs === undefined &&
      // A killed session that had not opened its message yet left nothing to close.
      killedUsers.every((u) => !shown.has(u) || shown.get(u)?.state === 'finished')
    )
      killedClosedMs = performance.now() - killedAt;
    if (users.every((u) => shown.get(u)?.state === 'finished')) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  unfollow();
  const rate = (await emulator.rate('tencent'))[API] ?? { accepted: 0, rejected: 0, busiestWindow: 0 };
  const total = TOKENS * SECONDS;
  const checked = users.filter((u) => !killedUsers.includes(u));
  const exact = checked.filter(
    (u) => shown.get(u)?.text === expectedText(u, total) && shown.get(u)?.state === 'finished',
  );
  const calls = results.flatMap((r) => r?.calls ?? []);
  const outcome: Outcome = {
    rejections: rate.rejected,
    busiestWindow: rate.busiestWindow,
    budgetUsed: inWindow / (BUDGET * SECONDS),
    jain: jain(calls),
    exact: exact.length / checked.length,
    failed: results.reduce((sum, r) => sum + (r?.failed ?? 0), 0),
    ...(killedClosedMs !== undefined ? { killedClosedMs } : {}),
  };
  console.error(`${scenario} round ${round}: ${JSON.stringify(outcome)}`);
  return outcome;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const outcomes: Record<Scenario, Outcome[]> = { shared: [], 'in-memory': [], kill: [], 'redis-restart': [] };
try {
  for (let round = 1; round <= ROUNDS; round++) {
    for (const scenario of (round % 2 ? ['shared', 'in-memory'] : ['in-memory', 'shared']) as Scenario[])
      if (SCENARIOS.has(scenario)) outcomes[scenario].push(await run(scenario, round));
  }
  for (const scenario of ['kill', 'redis-restart'] as Scenario[])
    if (SCENARIOS.has(scenario)) outcomes[scenario].push(await run(scenario, 1));
} finally {
  await emulator.close();
  await redis.shutdown();
}

const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
console.log(
  "| scenario | rejections | busiest 1 s window | budget used (0–10 s) | Jain over sessions | exact | sessions failed | killed process's messages finished after |",
);
console.log('|---|---|---|---|---|---|---|---|');
for (const scenario of ['shared', 'in-memory', 'kill', 'redis-restart'] as Scenario[]) {
  const os = outcomes[scenario];
  if (os.length === 0) continue;
  const m = (pick: (o: Outcome) => number) => median(os.map(pick));
  const killed = os[0]?.killedClosedMs;
  console.log(
    `| ${scenario}${os.length > 1 ? ` (median of ${os.length})` : ''} | ${m((o) => o.rejections)} | ${m((o) => o.busiestWindow)} | ${pct(m((o) => o.budgetUsed))} | ${m((o) => o.jain).toFixed(3)} | ${pct(m((o) => o.exact))} | ${m((o) => o.failed)} | ${killed === undefined ? '—' : `${(killed / 1000).toFixed(1)} s`} |`,
  );
}
