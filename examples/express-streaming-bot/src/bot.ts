import type { BotPlatform, RichMessage } from '@imbot/core';
import { type ImbotRouter, imbot } from '@imbot/express-middleware';
import { answer } from './answer.js';

export const BOT_ID = '@RBT#demo';

/** What the bot shows when asked for its menu: a card whose buttons ask it something. */
export const MENU: RichMessage = {
  type: 'card',
  title: 'What can I show you?',
  text: 'Press a button, or just write.',
  buttons: [
    { title: 'How streaming works', type: 'message', value: 'How does streaming work?' },
    { title: 'Bots in groups', type: 'message', value: 'How do bots work in groups?' },
    { title: 'imbot on npm', type: 'url', url: 'https://www.npmjs.com/package/@imbot/core' },
  ],
};

/**
 * The bot: one robot that answers "menu" with a card and every other message by streaming (in a
 * group, @-mentioning whoever asked). This is all an app needs; the platform decides the cloud.
 */
export function demoBot(
  platform: BotPlatform,
  options: { onError?: (error: Error) => void } = {},
): ImbotRouter {
  return imbot({
    platform,
    bots: [{ userId: BOT_ID, name: 'imbot demo', description: 'Streams its answers' }],
    // When the model fails mid-answer, the user sees what came and a note that it stopped there.
    onMessage: (message, reply) =>
      /^\s*menu\s*$/i.test(message.text)
        ? reply.send(MENU)
        : reply.stream({ onSourceError: ' (answer interrupted)' }).pipeFrom(answer(message.text)),
    onError: options.onError ?? ((error) => console.error('[demo bot]', error.message)),
  });
}
