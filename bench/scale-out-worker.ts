/**
 * One bot process of `bench/scale-out.ts`: opens `--streams` stream sessions to its own users, each
 * written `--tokens` tokens a second for `--seconds`, then ended. With `--redis`, the app's budget is a
 * RedisRateLimiter and open messages go in a RedisStreamJournal; without, an in-memory limiter.
 * Prints `streaming` once it writes, then one JSON line: calls per session and sessions that failed.
 */
import { parseArgs } from 'node:util';
import { InMemoryRateLimiter, type StreamSession, TencentIm } from '@imbot/core';
import { RedisRateLimiter, RedisStreamJournal } from '@imbot/redis';
import { connectionOf } from '../packages/redis/test/redis-server.js';

export const SCALE_APP = { sdkAppId: 1400000000, secretKey: 'bench-secret-key', admin: 'administrator' };
export const SCALE_BOT = '@RBT#bench';

/** The text user `user` is sent: `count` tokens, each a word and a space. */
export function expectedText(user: string, count: number): string {
  let text = '';
  for (let n = 0; n < count; n++) text += `${user}.${n} `;
  return text;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      emulator: { type: 'string' },
      redis: { type: 'string' },
      prefix: { type: 'string', default: 'bench' },
      index: { type: 'string', default: '0' },
      streams: { type: 'string', default: '250' },
      tokens: { type: 'string', default: '30' },
      seconds: { type: 'string', default: '10' },
    },
  });
  const streams = Number(values.streams);
  const tokens = Number(values.tokens);
  const seconds = Number(values.seconds);
  const redis = values.redis;
  const rateLimit = redis
    ? new RedisRateLimiter({ ...connectionOf(redis), prefix: values.prefix as string })
    : new InMemoryRateLimiter();
  const journal = redis
    ? new RedisStreamJournal({ ...connectionOf(redis), prefix: values.prefix as string, leaseMs: 5000 })
    : undefined;
  const im = new TencentIm({
    ...SCALE_APP,
    baseUrl: values.emulator as string,
    rateLimit,
    ...(journal ? { journal } : {}),
  });
  const users = Array.from({ length: streams }, (_, j) => `p${values.index}u${j}`);
  const calls = users.map(() => 0);
  let failed = 0;
  const sessions: StreamSession[] = users.map((user, j) => {
    const session = im.openStream({ from: SCALE_BOT, to: user });
    session.on('flush', () => {
      calls[j] = (calls[j] as number) + 1;
    });
    session.once('finish', (finish) => {
      if (finish.reason !== 'completed') failed++;
    });
    return session;
  });
  console.log('streaming');
  const total = tokens * seconds;
  const started = performance.now();
  for (let n = 0; n < total; n++) {
    // Tokens go out on a schedule, not as fast as the loop can run.
    const due = started + (n * 1000) / tokens;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    for (const [j, session] of sessions.entries()) session.write(`${users[j]}.${n} `);
  }
  await Promise.all(sessions.map((session) => session.end()));
  console.log(JSON.stringify({ calls, failed }));
  await im.close();
  await journal?.close();
  if ('close' in rateLimit) await rateLimit.close();
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
