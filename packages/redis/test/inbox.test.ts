import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { receiveNodeRequest, TencentIm, WebhookPipeline } from '@imbot/core';
import { tencentCallbackSign } from '@imbot/core/tencent';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisInbox, RedisSeenStore } from '../src/index.js';
import { startRedis } from './redis-server.js';

const fixture = fileURLToPath(new URL('./fixtures/replica.ts', import.meta.url));
const LEASE_MS = 1000;
let redis: Awaited<ReturnType<typeof startRedis>>;
const im = new TencentIm({
  sdkAppId: 1400000000,
  admin: 'administrator',
  secretKey: 'inbox-key',
  baseUrl: 'http://127.0.0.1:9',
  callbackToken: 'token',
});

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await im.close();
  await redis.shutdown();
});

/** A signed Tencent callback of `text` from `user`, posted to `url`; resolves with the status. */
async function callback(url: string, user: string, text: string): Promise<number> {
  const time = Math.floor(Date.now() / 1000);
  const query = `SdkAppid=1400000000&RequestTime=${time}&Sign=${tencentCallbackSign('token', time)}`;
  const body = JSON.stringify({
    CallbackCommand: 'Bot.OnC2CMessage',
    From_Account: user,
    To_Account: '@RBT#inbox',
    MsgKey: `${user}-${text}-${Math.random()}`,
    MsgTime: time,
    MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: text } }],
  });
  return (await fetch(`${url}/?${query}`, { method: 'POST', body })).status;
}

/** A replica in this process, whose handler records what it handled. */
async function replica(prefix: string, onMessage: (text: string) => Promise<void> | void) {
  const inbox = new RedisInbox({ ...redis.connection, prefix, shards: 4, leaseMs: LEASE_MS });
  const seen = new RedisSeenStore({ ...redis.connection, prefix });
  const pipeline = new WebhookPipeline({
    platform: im.platform,
    bots: ['@RBT#inbox'],
    seen,
    inbox,
    onMessage: (message) => onMessage(message.text),
  });
  const server: Server = createServer((req, res) => void receiveNodeRequest(pipeline, req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    inbox,
    close: async () => {
      await pipeline.close({ timeoutMs: 1000 });
      await seen.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('RedisInbox', () => {
  it('a replica killed after acknowledging: another handles each of its messages within 20 s, once', async () => {
    const child = spawn(
      process.execPath,
      ['--conditions=@imbot/source', '--import', 'tsx', fixture, redis.address, String(LEASE_MS)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (data: Buffer) => {
      out += data.toString();
    });
    const handled: string[] = [];
    let survivor: Awaited<ReturnType<typeof replica>> | undefined;
    try {
      await expect.poll(() => /ready (\S+)/.exec(out)?.[1], { timeout: 15_000 }).toBeTruthy();
      const url = /ready (\S+)/.exec(out)?.[1] as string;
      const texts = ['one', 'two', 'three', 'four', 'five'];
      for (const [i, text] of texts.entries()) expect(await callback(url, `user${i}`, text)).toBe(200);
      await expect.poll(() => out.match(/handling/g)?.length ?? 0, { timeout: 5000 }).toBe(5);
      // Another replica joins, then the first dies with five messages acknowledged and unfinished.
      survivor = await replica('test-inbox', (text) => void handled.push(text));
      child.kill('SIGKILL');
      await once(child, 'exit');
      const killed = Date.now();
      await expect.poll(() => [...handled].sort(), { timeout: 20_000 }).toEqual([...texts].sort());
      expect(Date.now() - killed).toBeLessThan(20_000);
      // A sentinel through the survivor: by the time it is handled, no duplicate is still coming.
      expect(await callback(survivor.url, 'user9', 'sentinel')).toBe(200);
      await expect.poll(() => handled.includes('sentinel')).toBe(true);
      expect([...handled].sort()).toEqual([...texts, 'sentinel'].sort());
    } finally {
      child.kill('SIGKILL');
      await survivor?.close();
    }
  }, 45_000);

  it("handles one conversation's messages in order", async () => {
    const handled: string[] = [];
    const one = await replica('test-order', async (text) => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      handled.push(text);
    });
    try {
      await expect.poll(() => one.inbox.ownedShards.length).toBe(4);
      const texts = ['a', 'b', 'c', 'd', 'e'];
      for (const text of texts) expect(await callback(one.url, 'alice', text)).toBe(200);
      await expect.poll(() => handled).toEqual(texts);
    } finally {
      await one.close();
    }
  });
});
