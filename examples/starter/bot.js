import { imbot } from '@imbot/express-middleware';

/** The bot: one robot account that streams its answer to every message. Make it yours here. */
export function createBot(platform) {
  return imbot({
    platform,
    bots: [{ userId: '@RBT#starter', name: 'Starter' }],
    onMessage: async (message, reply) => {
      const stream = reply.stream();
      for (const word of `You said: ${message.text}`.split(/(?<= )/)) {
        stream.write(word);
        await new Promise((resolve) => setTimeout(resolve, 50)); // as a model's tokens would come
      }
      await stream.end();
    },
  });
}
