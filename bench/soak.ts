/**
 * The fault soak: 13,000 stream sessions (10,000 on Tencent, split between the robot API, stream_msg
 * one-to-one and groups; 3,000 on RongCloud) against the emulator in its own process, which strikes
 * calls at random with the cloud's internal error, HTTP 502, and resets before and after a call is
 * applied. Each session writes a known answer in pieces and ends. Afterwards every conversation is
 * read from the emulator and counted: messages left open or abandoned, answers lost (not shown in
 * order), answers duplicated (shown with text twice). RongCloud's full message routing (with Server
 * API messages) posts to a receiver here, where a stream whose opening call's answer was lost finds
 * its message.
 *
 *   npm run bench:soak -- [--tencent 10000] [--rongcloud 3000] [--concurrency 1000] [--seed 7]
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { RongCloud, receiveNodeRequest, type StreamSession, TencentIm, WebhookPipeline } from '@imbot/core';
import { startEmulatorProcess } from './emulator-process.js';

const { values } = parseArgs({
  options: {
    tencent: { type: 'string', default: '10000' },
    rongcloud: { type: 'string', default: '3000' },
    concurrency: { type: 'string', default: '1000' },
    seed: { type: 'string', default: '7' },
  },
});
const TENCENT = Number(values.tencent);
const RONG = Number(values.rongcloud);
const CONCURRENCY = Number(values.concurrency);
const BOT = '@RBT#soak';
const RONG_BOT = 'soak-bot';
const FAULTS = { errorRate: 0.03, http502Rate: 0.03, resetBeforeRate: 0.03, resetAfterRate: 0.03 };

type Kind = 'robot' | 'stream_msg' | 'group' | 'rongcloud';
interface Planned {
  kind: Kind;
  user: string;
  pieces: string[];
}

const emulator = await startEmulatorProcess({
  robots: [BOT],
  secretKey: 'soak-secret',
  rateLimit: 1_000_000,
});
const control = (path: string, init?: RequestInit) =>
  fetch(`${emulator.url}/_emulator/${path}`, init).then((r) => r.json() as Promise<unknown>);
const retry = { retries: 4, minDelayMs: 5, maxDelayMs: 50 };
const im = new TencentIm({
  sdkAppId: 1400000000,
  admin: 'administrator',
  secretKey: 'soak-secret',
  baseUrl: emulator.url,
  rateLimit: false,
  retry,
  timeoutMs: 3000,
});
const rong = new RongCloud({
  appKey: 'imbot-app-key',
  appSecret: 'imbot-app-secret',
  baseUrl: emulator.url,
  messageRouting: true,
  rateLimit: false,
  retry,
  timeoutMs: 3000,
});

// RongCloud's routed messages reach `rong.routes` through the app's own receiver.
const routes = new WebhookPipeline({ platform: rong.platform });
const receiver = createServer((req, res) => void receiveNodeRequest(routes, req, res));
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
await control('rongcloud/routing', {
  method: 'PUT',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({
    url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`,
    serverApi: true,
  }),
});

const plans: Planned[] = [];
const kinds: Kind[] = ['robot', 'stream_msg', 'group'];
for (let i = 0; i < TENCENT; i++) plans.push(planFor(kinds[i % 3] as Kind, i));
for (let i = 0; i < RONG; i++) plans.push(planFor('rongcloud', i));

function planFor(kind: Kind, i: number): Planned {
  const words = Array.from({ length: 6 + (i % 5) }, (_, w) => `w${w}·${i} `);
  return { kind, user: `${kind}-${i}`, pieces: [`Answer ${i}: `, ...words, 'done.'] };
}

for (const plan of plans.filter((p) => p.kind === 'group')) {
  await control('tencent/groups', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ groupId: plan.user, type: 'Public', members: [BOT] }),
  });
}
await emulator.configureFaults({ seed: Number(values.seed), ...FAULTS });

function open(plan: Planned): StreamSession {
  const options = { minIntervalMs: 20 };
  if (plan.kind === 'rongcloud') return rong.openStream({ from: RONG_BOT, to: plan.user }, options);
  if (plan.kind === 'group') return im.openStream({ from: BOT, groupId: plan.user }, options);
  return im.openStream({ from: BOT, to: plan.user, api: plan.kind }, options);
}

async function play(plan: Planned): Promise<void> {
  const session = open(plan);
  session.on('error', () => undefined);
  for (const piece of plan.pieces) {
    session.write(piece);
    await new Promise((resolve) => setTimeout(resolve, 15));
  }
  await session.end();
}

const started = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (next < plans.length) await play(plans[next++] as Planned);
  }),
);
const seconds = (performance.now() - started) / 1000;
await emulator.configureFaults({});

interface Shown {
  from: string;
  text: string;
  state: string;
}
/** The bot's messages in a session's conversation, as the user's client shows them. */
async function shownTo(plan: Planned): Promise<Shown[]> {
  const user = encodeURIComponent(plan.user);
  const path =
    plan.kind === 'rongcloud'
      ? `rongcloud/conversation?user=${user}&with=${RONG_BOT}`
      : plan.kind === 'group'
        ? `tencent/group?id=${user}`
        : `tencent/conversation?user=${user}&with=${encodeURIComponent(BOT)}`;
  return ((await control(path)) as Shown[]).filter((m) => m.from === BOT || m.from === RONG_BOT);
}
const byUser = new Map<string, Shown[]>();
let read = 0;
await Promise.all(
  Array.from({ length: 50 }, async () => {
    while (read < plans.length) {
      const plan = plans[read++] as Planned;
      byUser.set(plan.user, await shownTo(plan));
    }
  }),
);

/** Whether `inner` reads out of `outer` in order, skipping characters. */
function isSubsequence(inner: string, outer: string): boolean {
  let i = 0;
  for (let j = 0; j < outer.length && i < inner.length; j++) if (outer[j] === inner[i]) i++;
  return i === inner.length;
}

const rows = new Map<
  string,
  { sessions: number; open: number; abandoned: number; lost: number; duplicated: number; recalled: number }
>();
for (const plan of plans) {
  const row = rows.get(plan.kind) ?? {
    sessions: 0,
    open: 0,
    abandoned: 0,
    lost: 0,
    duplicated: 0,
    recalled: 0,
  };
  rows.set(plan.kind, row);
  row.sessions++;
  // A message recalled without a notice is not shown: a late-routed RongCloud opening.
  const all = byUser.get(plan.user) ?? [];
  const shown = all.filter((m) => m.state !== 'recalled');
  row.recalled += all.length - shown.length;
  const written = plan.pieces.join('');
  const text = shown.map((m) => m.text).join('');
  if (shown.some((m) => m.state === 'streaming')) row.open++;
  if (shown.some((m) => m.state === 'abandoned')) row.abandoned++;
  if (!isSubsequence(written, text)) row.lost++;
  else if (text.length > written.length) row.duplicated++;
}
const tencentRate = await emulator.rate('tencent');
const rongRate = await emulator.rate('rongcloud');
const calls = [...Object.values(tencentRate), ...Object.values(rongRate)].reduce((n, r) => n + r.accepted, 0);
await im.close();
await rong.close();
await emulator.close();
await routes.close();
await new Promise((resolve) => receiver.close(resolve));

console.log(
  `fault soak: ${plans.length} sessions in ${seconds.toFixed(1)} s, ${calls} calls; faults per call: ` +
    `${FAULTS.errorRate * 100} % internal error, ${FAULTS.http502Rate * 100} % HTTP 502, ` +
    `${FAULTS.resetBeforeRate * 100} % reset before apply, ${FAULTS.resetAfterRate * 100} % reset after apply`,
);
console.log('| sessions | count | left open | abandoned | lost | duplicated | recalled unseen |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const [kind, r] of rows) {
  console.log(
    `| ${kind} | ${r.sessions} | ${r.open} | ${r.abandoned} | ${r.lost} | ${r.duplicated} | ${r.recalled} |`,
  );
}
