import type { BotPlatform } from '@imbot/core';
import { type ImbotRouter, imbot } from '@imbot/express-middleware';
import { answer } from './answer.js';

export const BOT_ID = '@RBT#demo';

/**
 * The bot: one robot that answers every message by streaming. This is all an app needs; the
 * platform decides the cloud.
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
      reply.stream({ onSourceError: ' (answer interrupted)' }).pipeFrom(answer(message.text)),
    onError: options.onError ?? ((error) => console.error('[demo bot]', error.message)),
  });
}
