import type { LanguageModelV3StreamPart } from '@ai-sdk/provider';
import { createImbotAdapter } from '@imbot/chat-adapter';
import type { BotPlatform } from '@imbot/core';
import { Agent } from '@mastra/core/agent';
import type { ChannelAdapterStreamingConfig } from '@mastra/core/channels';
import { Mastra } from '@mastra/core/mastra';
import { InMemoryStore } from '@mastra/core/storage';
import { createTool } from '@mastra/core/tools';
import { MockLanguageModelV3, simulateReadableStream } from 'ai/test';
import { z } from 'zod';

/** The agent's account on each cloud. */
export const BOT_IDS = { tencent: '@RBT#mastra', rongcloud: 'mastra-agent' } as const;
export type Cloud = keyof typeof BOT_IDS;

/** The one tool: a lookup slow enough that the user sees the bot typing while it runs. */
export const lookupOrder = createTool({
  id: 'lookup_order',
  description: 'Looks up the delivery status of an order by its number.',
  inputSchema: z.object({ orderId: z.string() }),
  execute: async ({ orderId }) => {
    await new Promise((resolve) => setTimeout(resolve, 2500));
    return { orderId, status: 'shipped', eta: 'Friday' };
  },
});

/** Orders refunded so far: the example's stand-in for a payment system. */
export const refunds: string[] = [];

/**
 * The same lookup's sibling that changes something, so Mastra asks before running it: with
 * `requireApproval`, the channel posts an Approve/Deny card and the run waits for the press.
 */
export const refundOrder = createTool({
  id: 'refund_order',
  description: 'Refunds an order. A person must approve it first.',
  inputSchema: z.object({ orderId: z.string() }),
  requireApproval: true,
  execute: async ({ orderId }) => {
    refunds.push(orderId);
    return { orderId, refunded: true };
  },
});

const USAGE = {
  inputTokens: { total: 10, noCache: 10, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 20, text: 20, reasoning: undefined },
};

function orderNumber(text: string): string {
  return text.match(/order\s+(\d+)/i)?.[1] ?? 'unknown';
}

function textParts(text: string): LanguageModelV3StreamPart[] {
  return [
    { type: 'text-start', id: 't' },
    ...text
      .split(/(?<= )/)
      .map((delta): LanguageModelV3StreamPart => ({ type: 'text-delta', id: 't', delta })),
    { type: 'text-end', id: 't' },
    { type: 'finish', finishReason: { unified: 'stop', raw: 'stop' }, usage: USAGE },
  ];
}

function toolCall(toolName: string, input: unknown): LanguageModelV3StreamPart[] {
  return [
    {
      type: 'tool-call',
      toolCallId: `call-${toolName}-${Date.now()}`,
      toolName,
      input: JSON.stringify(input),
    },
    { type: 'finish', finishReason: { unified: 'tool-calls', raw: 'tool_calls' }, usage: USAGE },
  ];
}

/**
 * A stand-in for a language model, so the example needs no key: it asks for `lookup_order` when the
 * user names an order, for `refund_order` when they want a refund, answers from a tool's result (or
 * its refusal) once it has one, and otherwise talks at length (long enough to be stopped), a word every 15 ms.
 */
export function standInModel(): MockLanguageModelV3 {
  return new MockLanguageModelV3({
    doStream: async ({ prompt }) => {
      const last = prompt.at(-1);
      const userText = prompt
        .filter((m) => m.role === 'user')
        .flatMap((m) => m.content)
        .map((part) => (part.type === 'text' ? part.text : ''))
        .join('\n');
      let parts: LanguageModelV3StreamPart[];
      if (last?.role === 'tool') {
        const result = last.content.find((part) => part.type === 'tool-result');
        const output = result?.output;
        parts = textParts(
          output?.type === 'json'
            ? `Done: ${result?.toolName} says ${JSON.stringify(output.value)}.`
            : `Not done: ${result?.toolName}: ${output && 'value' in output ? String(output.value) : output?.type}.`,
        );
      } else if (userText && /refund/i.test(userText)) {
        parts = toolCall('refund_order', { orderId: orderNumber(userText) });
      } else if (userText && /order/i.test(userText)) {
        parts = toolCall('lookup_order', { orderId: orderNumber(userText) });
      } else {
        parts = textParts(Array.from({ length: 120 }, (_, i) => `word${i}`).join(' '));
      }
      return {
        stream: simulateReadableStream({
          chunks: [{ type: 'stream-start', warnings: [] } as LanguageModelV3StreamPart, ...parts],
          chunkDelayInMs: 15,
        }),
      };
    },
  });
}

/**
 * The model: any OpenAI-compatible server when `OPENAI_BASE_URL` (or `OPENAI_API_KEY`) is set,
 * else the stand-in.
 */
function model() {
  const { OPENAI_BASE_URL: url, OPENAI_API_KEY: apiKey, OPENAI_MODEL = 'gpt-4o-mini' } = process.env;
  if (url || apiKey) return { id: `openai/${OPENAI_MODEL}` as const, url, apiKey };
  return standInModel();
}

/**
 * How Mastra drives one cloud's adapter. `streaming: true` makes Mastra hand the Chat SDK its text
 * as it comes (`thread.post(stream)`), which the adapter sends through the cloud's streaming API as
 * one growing message; without it Mastra buffers each step and posts it whole. `toolDisplay:
 * 'timeline'` turns a tool call into a `task_update` in that stream, which the adapter shows as the
 * bot typing with the task's name; Mastra 1.71 defaults to `'cards'` (a "running" card and a result
 * card per call, posted as separate messages) even when streaming. A tool that needs approval still
 * gets Mastra's Approve/Deny card, whose buttons come back to Mastra through the adapter.
 */
function channel(platform: BotPlatform, cloud: Cloud): ChannelAdapterStreamingConfig {
  return {
    adapter: createImbotAdapter({ platform, botId: BOT_IDS[cloud], bot: { name: 'Mastra agent' } }),
    streaming: true,
    toolDisplay: 'timeline',
  };
}

/** A Mastra agent with one tool (and one that asks first), on whichever clouds are given. */
export function mastraAgent(platforms: Partial<Record<Cloud, BotPlatform>>): {
  mastra: Mastra;
  agent: Agent;
} {
  const adapters: Record<string, ChannelAdapterStreamingConfig> = {};
  for (const cloud of Object.keys(platforms) as Cloud[]) {
    const platform = platforms[cloud];
    if (platform) adapters[cloud] = channel(platform, cloud);
  }
  const agent = new Agent({
    id: 'orders',
    name: 'Orders',
    instructions:
      'You answer questions about orders. Use lookup_order to find one, refund_order to refund one.',
    model: model(),
    tools: { lookup_order: lookupOrder, refund_order: refundOrder },
    channels: { adapters, chatOptions: { logger: 'warn' } },
  });
  // Channels keep their thread mapping in the Mastra instance's storage; memory is enough here.
  const mastra = new Mastra({ agents: { orders: agent }, storage: new InMemoryStore(), logger: false });
  return { mastra, agent };
}
