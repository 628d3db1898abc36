import { createFetchHandler, type FetchHandler, TencentIm } from '@imbot/core';

export const BOT_ID = '@RBT#worker';

/** Where the bot's cloud is and how it signs: the emulator's in the test, the real cloud's in production. */
export interface BotEnv {
  /** The cloud's origin: the emulator's URL, or leave it out and set `IMBOT_REGION`. */
  IMBOT_BASE_URL?: string | undefined;
  IMBOT_REGION?: string | undefined;
  IMBOT_SDK_APP_ID: string;
  IMBOT_ADMIN?: string | undefined;
  IMBOT_SECRET_KEY: string;
  IMBOT_CALLBACK_TOKEN: string;
}

/**
 * The bot: a Tencent client (its calls on the runtime's `fetch`, chosen by itself) and a
 * web-standard webhook handler whose robot streams back what it is told.
 */
export function makeBot(env: BotEnv): { im: TencentIm; handler: FetchHandler } {
  const where = env.IMBOT_BASE_URL
    ? { baseUrl: env.IMBOT_BASE_URL }
    : { region: (env.IMBOT_REGION ?? 'singapore') as 'singapore' };
  const im = new TencentIm({
    ...where,
    sdkAppId: Number(env.IMBOT_SDK_APP_ID),
    admin: env.IMBOT_ADMIN ?? 'administrator',
    secretKey: env.IMBOT_SECRET_KEY,
    callbackToken: env.IMBOT_CALLBACK_TOKEN,
  });
  const handler = createFetchHandler({
    platform: im.platform,
    bots: [{ userId: BOT_ID, name: 'a Cloudflare Worker bot' }],
    onMessage: async (message, reply) => {
      const stream = reply.stream();
      for (const word of `You said: ${message.text}. This answer streams from a Cloudflare Worker.`.split(
        /(?<= )/,
      ))
        stream.write(word);
      await stream.end();
    },
  });
  return { im, handler };
}
