import type { BotPlatform } from '@imbot/core';
import { type ImbotRouter, imbot } from '@imbot/express-middleware';
import { answer } from './answer.js';

export const BOT_ID = '@RBT#demo';

/**
 * The bot: one robot that answers every message by streaming. This is all an app needs; the
 * platform decides the cloud.
 */
export function demoBot(platform: BotPlatform, options: { token?: string } = {}): ImbotRouter {
  return imbot({
    platform,
    bots: [{ userId: BOT_ID, name: 'imbot demo', description: 'Streams its answers' }],
    webhook: options.token ? { token: options.token } : {},
    onMessage: (message, reply) => reply.stream().pipeFrom(answer(message.text)),
    onError: (error) => console.error('[demo bot]', error.message),
  });
}
