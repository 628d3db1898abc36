import { realpathSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { RongCloud, TencentIm } from '@imbot/core';
import { type CallRecord, type Emulator, startEmulator } from '@imbot/emulator';
import type { Agent } from '@mastra/core/agent';
import type { Mastra } from '@mastra/core/mastra';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BOT_IDS, type Cloud, mastraAgent, refunds } from '../src/agent.js';

/**
 * A Mastra agent (the stand-in model, its tools, Mastra's channels with `streaming: true`) on each
 * cloud through the emulator, over real HTTP, as a user sees it: one message that grows through the
 * cloud's streaming API, the tool's name while it runs, /stop, and a tool approval card whose button
 * resumes the run.
 */

const tencentApp = { sdkAppId: 1400000000, secretKey: 'mastra-test-key', admin: 'administrator' };
const rongApp = { appKey: 'mastra-test', appSecret: 'mastra-test-secret' };
const TOKEN = 'mastra-test-token';

const streamApi: Record<Cloud, RegExp> = { tencent: /send_stream_msg$/, rongcloud: /publish_stream\.json$/ };
/** A whole message sent or replaced: what the Chat SDK's post-and-edit fallback would call. */
const postOrEdit: Record<Cloud, (call: CallRecord) => boolean> = {
  tencent: (call) =>
    /modify_c2c_msg$/.test(call.api) ||
    (call.api === 'openim/sendmsg' && (call.body as { MsgLifeTime?: number }).MsgLifeTime !== 0),
  rongcloud: (call) => /\/message\/(private\/publish|recall)\.json$/.test(call.api),
};

async function serveFetch(
  handle: (request: Request) => Promise<Response>,
): Promise<{ server: Server; url: string }> {
  const server = serve({ fetch: handle, port: 0, hostname: '127.0.0.1' }) as Server;
  await new Promise((resolve) => server.once('listening', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook` };
}

it('Mastra’s own `chat` is the very copy the adapter’s peer and the example resolve to', () => {
  const dir = (path: string) => realpathSync(new URL(path, import.meta.url));
  // pnpm links a package's dependencies beside it: @mastra/core's `chat` is ../../chat from its folder.
  const mastras = `${dir('../node_modules/@mastra/core')}/../../chat`;
  expect(realpathSync(mastras)).toBe(dir('../../../packages/chat-adapter/node_modules/chat'));
  expect(realpathSync(mastras)).toBe(dir('../node_modules/chat'));
});

describe.each(['tencent', 'rongcloud'] as const)('a Mastra agent on %s', (cloud) => {
  const botId = BOT_IDS[cloud];
  let emulator: Emulator;
  let server: Server;
  let client: TencentIm | RongCloud;
  let mastra: Mastra;
  let agent: Agent;
  const fromBot = () => emulator[cloud].conversation('alice', botId).filter((m) => m.from === botId);

  beforeEach(async () => {
    emulator = await startEmulator({ tencent: tencentApp, rongcloud: rongApp });
    let route: (request: Request) => Promise<Response> = async () => new Response(null, { status: 503 });
    const served = await serveFetch((request) => route(request));
    server = served.server;
    emulator.tencent.setCallback(served.url, TOKEN);
    client =
      cloud === 'tencent'
        ? new TencentIm({ ...tencentApp, baseUrl: emulator.url, callbackToken: TOKEN })
        : new RongCloud({ ...rongApp, baseUrl: emulator.url, callbackUrl: served.url });
    ({ mastra, agent } = mastraAgent({ [cloud]: client.platform }));
    const channels = agent.getChannels();
    if (!channels) throw new Error('the agent has no channels');
    // What Mastra's server does at /api/agents/orders/channels/<cloud>/webhook.
    route = (request) => channels.handleWebhookEvent(cloud, request);
    await channels.initialize(mastra);
  });

  afterEach(async () => {
    agent.getChannels()?.close();
    await new Promise((resolve) => server.close(resolve));
    await client.close();
    await emulator.close();
  });

  it('streams a direct answer as one message through the cloud’s streaming API, with no post and edit', async () => {
    await emulator[cloud].userSends({ from: 'alice', to: botId, text: 'tell me everything' });
    await expect.poll(() => fromBot()[0]?.state, { timeout: 10_000 }).toBe('finished');
    expect(fromBot()).toHaveLength(1);
    expect(fromBot()[0]?.text).toBe(Array.from({ length: 120 }, (_, i) => `word${i}`).join(' '));
    const calls = emulator[cloud].calls();
    expect(calls.filter((c) => streamApi[cloud].test(c.api)).length).toBeGreaterThan(1);
    expect(calls.filter(postOrEdit[cloud]).map((c) => c.api)).toEqual([]);
  });

  it('a tool call keeps the bot typing with the tool’s name, then the answer uses its result', async () => {
    await emulator[cloud].userSends({ from: 'alice', to: botId, text: 'where is order 42?' });
    await expect
      .poll(() => emulator[cloud].typing('alice', botId)?.statusText ?? '', { timeout: 5000 })
      .toContain('lookup_order');
    await expect
      .poll(() => fromBot().find((m) => m.state === 'finished')?.text ?? '', { timeout: 10_000 })
      .toContain('Done: lookup_order says {"orderId":"42","status":"shipped","eta":"Friday"}');
    // The tool showed as typing, not as messages of its own: the answer is the only message.
    expect(fromBot()).toHaveLength(1);
    expect(emulator[cloud].calls().some((c) => streamApi[cloud].test(c.api))).toBe(true);
    expect(
      emulator[cloud]
        .calls()
        .filter(postOrEdit[cloud])
        .map((c) => c.api),
    ).toEqual([]);
  });

  it('/stop ends the answer with what was shown', async () => {
    await emulator[cloud].userSends({ from: 'alice', to: botId, text: 'tell me everything' });
    await expect.poll(() => fromBot()[0]?.text ?? '', { timeout: 5000 }).toContain('word3 ');
    await emulator[cloud].userSends({ from: 'alice', to: botId, text: '/stop' });
    await expect.poll(() => fromBot()[0]?.state, { timeout: 5000 }).toBe('finished');
    const answer = fromBot()[0]?.text ?? '';
    expect(answer.endsWith(' (stopped)')).toBe(true);
    expect(answer).not.toContain('word119');
    // Mastra's run goes on after the stop (it does not read thread.signal): what it writes is dropped.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(fromBot()).toHaveLength(1);
    expect(fromBot()[0]?.text).toBe(answer);
  });

  /** Asks for a refund, waits for Mastra's approval card, checks the run waits, and presses `title`. */
  async function askRefundAndPress(orderId: string, title: 'Approve' | 'Deny'): Promise<number> {
    const refundsBefore = refunds.length;
    await emulator[cloud].userSends({ from: 'alice', to: botId, text: `refund order ${orderId} please` });
    const card = () => fromBot().find((m) => m.content?.type === 'card' && m.content.buttons.length > 0);
    await expect.poll(() => card()?.content?.type, { timeout: 10_000 }).toBe('card');
    const content = card()?.content;
    if (content?.type !== 'card') throw new Error('no approval card');
    expect(content.text).toContain('refund_order');
    expect(content.buttons.map((b) => b.title)).toEqual(['Approve', 'Deny']);
    // The run waits on the card: the refund has not happened.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(refunds.length).toBe(refundsBefore);
    const button = content.buttons.find((b) => b.title === title);
    if (button?.type !== 'message') throw new Error(`no ${title} button on the card`);
    await emulator[cloud].userPresses({ from: 'alice', msgKey: card()?.msgKey ?? '', value: button.value });
    return refundsBefore;
  }
  const botText = () =>
    fromBot()
      .map((m) => m.text ?? '')
      .join('\n');

  it('a tool that needs approval posts Mastra’s Approve/Deny card, and Approve resumes the run', async () => {
    const refundsBefore = await askRefundAndPress('7', 'Approve');
    await expect
      .poll(botText, { timeout: 10_000 })
      .toContain('Done: refund_order says {"orderId":"7","refunded":true}');
    expect(refunds.slice(refundsBefore)).toEqual(['7']);
  });

  it('Deny on the approval card reaches Mastra too: the tool never runs and the agent is told', async () => {
    const refundsBefore = await askRefundAndPress('9', 'Deny');
    await expect
      .poll(botText, { timeout: 10_000 })
      .toContain('Not done: refund_order: Tool call was not approved by the user.');
    expect(refunds.length).toBe(refundsBefore);
  });
});
