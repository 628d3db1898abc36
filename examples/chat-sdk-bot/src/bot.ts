import { createMemoryState } from '@chat-adapter/state-memory';
import { createImbotAdapter } from '@imbot/chat-adapter';
import type { BotPlatform } from '@imbot/core';
import { Actions, Button, Card, CardText, Chat, type Thread } from 'chat';

/** The bot's account on each cloud. */
export const BOT_IDS = { tencent: '@RBT#chatsdk', rongcloud: 'chat-sdk-bot' } as const;

/**
 * A stand-in for a model: an AI SDK-style `fullStream` (a tool call, then text deltas). Swap in
 * `streamText({ model, prompt }).fullStream` from the AI SDK and nothing else changes.
 */
export async function* model(prompt: string) {
  yield {
    type: 'task_update' as const,
    id: 'lookup',
    title: 'Looking it up',
    status: 'in_progress' as const,
  };
  await new Promise((resolve) => setTimeout(resolve, 300));
  yield { type: 'task_update' as const, id: 'lookup', title: 'Looking it up', status: 'complete' as const };
  for (const word of `Here is what I found about "${prompt}", streamed word by word.`.split(/(?<= )/)) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    yield { type: 'text-delta' as const, text: word };
  }
}

/** The deploy card: its buttons come back through `onAction`. */
function deployCard() {
  return Card({
    title: 'Deploy build 42?',
    children: [
      CardText('It passed every check.'),
      Actions([
        Button({ id: 'deploy', label: 'Ship it', value: '42', style: 'primary' }),
        Button({ id: 'cancel', label: 'Not now' }),
      ]),
    ],
  });
}

/** Answers in a thread: the deploy card when asked, else a streamed answer from the model. */
async function answer(thread: Thread, text: string): Promise<void> {
  if (/deploy/i.test(text)) await thread.post(deployCard());
  else await thread.post(model(text));
}

/**
 * A Chat SDK bot on whichever clouds are given: a mention in a group subscribes it to the
 * conversation, then every message there is answered; direct messages are answered too.
 */
export function chatSdkBot(platforms: Partial<Record<keyof typeof BOT_IDS, BotPlatform>>): Chat {
  const adapters = Object.fromEntries(
    Object.entries(platforms).map(([cloud, platform]) => [
      cloud,
      createImbotAdapter({
        platform,
        botId: BOT_IDS[cloud as keyof typeof BOT_IDS],
        bot: { name: 'Chat SDK bot' },
      }),
    ]),
  );
  const bot = new Chat({ userName: 'chatsdk', adapters, state: createMemoryState(), logger: 'warn' });
  bot.onNewMention(async (thread, message) => {
    await thread.subscribe();
    await answer(thread, message.text);
  });
  bot.onSubscribedMessage((thread, message) => answer(thread, message.text));
  bot.onDirectMessage((thread, message) => answer(thread, message.text));
  bot.onAction(['deploy', 'cancel'], async (event) => {
    await event.thread?.post(
      event.actionId === 'deploy' ? `Shipping build ${event.value} for ${event.user.userId}.` : 'Cancelled.',
    );
  });
  return bot;
}
