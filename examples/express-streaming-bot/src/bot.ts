import type { BotPlatform, InboundMessage, RichMessage } from '@imbot/core';
import { type ImbotRouter, imbot } from '@imbot/express-middleware';
import { answer, HISTORY_LIMIT } from './answer.js';

export const BOT_ID = '@RBT#demo';

/** What the bot shows when asked for its menu: a card whose buttons ask it something. */
export const MENU = {
  type: 'card',
  title: 'What can I show you?',
  text: 'Press a button, or just write.',
  buttons: [
    { title: 'How streaming works', type: 'message', value: 'How does streaming work?' },
    { title: 'Bots in groups', type: 'message', value: 'How do bots work in groups?' },
    { title: 'What is imbot?', type: 'message', value: 'What is imbot?' },
  ],
} satisfies RichMessage;

/**
 * The bot: one robot that answers "menu" with a card and every other message by streaming (in a
 * group, @-mentioning whoever asked). This is all an app needs; the platform decides the cloud.
 * `log` hears one line for each message in and each reply out.
 */
export function demoBot(
  platform: BotPlatform,
  options: { onError?: (error: Error) => void; log?: (line: string) => void } = {},
): ImbotRouter {
  const log = options.log ?? (() => undefined);
  return imbot({
    platform,
    bots: [{ userId: BOT_ID, name: 'imbot demo', description: 'Streams its answers' }],
    onMessage: async (message, reply) => {
      log(
        `in   ${direction(message, 'in')}: ${JSON.stringify(message.text)}${message.action ? ' (button)' : ''}`,
      );
      const started = Date.now();
      if (/^\s*menu\s*$/i.test(message.text)) {
        await reply.send(MENU);
        log(`out  ${direction(message, 'out')}: card "${MENU.title}"`);
        return;
      }
      // The user sees the bot typing until the first words. When the model fails mid-answer, they see
      // what came and a note that it stopped there; /stop ends it the same way (reply.signal aborts).
      // The model gets the conversation so far, pictures and files included, ending with this message.
      const history = await reply.history({ limit: HISTORY_LIMIT });
      const result = await reply.stream().pipeFrom(answer(history, reply.signal) as AsyncIterable<string>);
      log(
        `out  ${direction(message, 'out')}: ${result.text.length} chars streamed in ${result.calls} calls, ${Date.now() - started} ms (${result.reason})`,
      );
    },
    onError: options.onError ?? ((error) => console.error('[demo bot]', error.message)),
  });
}

/** Who wrote to whom, for the log: `you → @RBT#demo` (and back), or `#team alice` in a group. */
function direction(message: InboundMessage, way: 'in' | 'out'): string {
  const [writer, reader] = way === 'in' ? [message.from, message.botId] : [message.botId, message.from];
  return message.conversation.type === 'group'
    ? `#${message.conversation.groupId} ${writer}`
    : `${writer} → ${reader}`;
}
