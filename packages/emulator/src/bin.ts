#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { genUserSig } from '@imbot/core';
import { startEmulator } from './emulator.js';

/** The command line, read strictly: an unknown option or a missing value throws. */
function parse() {
  return parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'sdk-app-id': { type: 'string' },
      'secret-key': { type: 'string' },
      admin: { type: 'string' },
      'callback-url': { type: 'string' },
      'callback-token': { type: 'string' },
      robots: { type: 'string' },
      'rong-app-key': { type: 'string' },
      'rong-app-secret': { type: 'string' },
      seed: { type: 'string' },
      'rate-limit': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
}

const usage = `imbot-emulator: local Tencent Cloud Chat and RongCloud for development and tests

Options (each also read from the environment variable in brackets):
  --port <n>            port to listen on, 0 for any free one     [IMBOT_EMULATOR_PORT]   default 5710
  --host <addr>         address to listen on                      [IMBOT_EMULATOR_HOST]   default 127.0.0.1
  --sdk-app-id <n>      the emulated app's SDKAppID               [TENCENT_SDK_APP_ID]    default 1400000000
  --secret-key <key>    its secret key                            [TENCENT_SECRET_KEY]    default imbot-emulator-key
  --admin <id>          its App admin                             [TENCENT_ADMIN]         default administrator
  --callback-url <url>  where robot callbacks are posted          [TENCENT_CALLBACK_URL]
  --callback-token <t>  token that signs callbacks                [TENCENT_CALLBACK_TOKEN]
  --rong-app-key <k>    the emulated RongCloud app's App Key       [RONGCLOUD_APP_KEY]     default imbot-app-key
  --rong-app-secret <s> its App Secret                            [RONGCLOUD_APP_SECRET]  default imbot-app-secret
  --robots <ids>        robots that exist from the start, comma-separated                 e.g. @RBT#001,@RBT#002
  --seed <n>            seed of the fault generator               [IMBOT_EMULATOR_SEED]
  --rate-limit <n>      n calls a second per API, in place of the documented per-API limits
  --help                this text
`;

/**
 * Says what is wrong in one line and exits with `code`: 2 for a bad argument (pointing at --help),
 * 1 for a failure to start.
 */
function fail(message: string, code = 2): never {
  process.stderr.write(`imbot-emulator: ${message}${code === 2 ? ' (see --help)' : ''}\n`);
  process.exit(code);
}

/** An integer option within bounds, or a clear failure naming it. */
function integer(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || value < min || value > max) {
    fail(`--${name} must be a whole number from ${min} to ${max}, not "${raw}"`);
  }
  return value;
}

/** The flag that sets each of `startEmulator`'s options, for errors in the words the user typed. */
const FLAGS: Record<string, string> = {
  'tencent.sdkAppId': '--sdk-app-id',
  'tencent.secretKey': '--secret-key',
  'tencent.admin': '--admin',
  'tencent.callbackUrl': '--callback-url',
  'tencent.callbackToken': '--callback-token',
  'tencent.robots': '--robots',
  'rongcloud.appKey': '--rong-app-key',
  'rongcloud.appSecret': '--rong-app-secret',
};

let values: ReturnType<typeof parse>['values'];
try {
  values = parse().values;
} catch (error) {
  // Node's own words, without the advice on '-'-prefixed positionals that this command has none of.
  fail(((error as Error).message.split('\n')[0] as string).replace(/\. To specify a positional.*$/, ''));
}
if (values.help) {
  process.stdout.write(usage);
  process.exit(0);
}

const env = process.env;
const givenCallbackUrl = values['callback-url'] ?? env.TENCENT_CALLBACK_URL;
// `localhost:3000/im/webhook` parses as a URL with the scheme `localhost:`: refused here, not at the first message.
if (givenCallbackUrl !== undefined && !/^https?:\/\/[^/\s]/.test(givenCallbackUrl)) {
  fail(
    `--callback-url is your bot's webhook URL, as in http://127.0.0.1:3000/im/webhook, not "${givenCallbackUrl}"`,
  );
}
const port = integer('port', values.port ?? env.IMBOT_EMULATOR_PORT, 5710, 0, 65_535);
const sdkAppId = integer(
  'sdk-app-id',
  values['sdk-app-id'] ?? env.TENCENT_SDK_APP_ID,
  1400000000,
  1,
  2 ** 32 - 1,
);
const secretKey = values['secret-key'] ?? env.TENCENT_SECRET_KEY ?? 'imbot-emulator-key';
const admin = values.admin ?? env.TENCENT_ADMIN ?? 'administrator';
const seedText = values.seed ?? env.IMBOT_EMULATOR_SEED;
const seed = seedText === undefined ? undefined : integer('seed', seedText, 0, 0, 2 ** 32 - 1);
const host = values.host ?? env.IMBOT_EMULATOR_HOST ?? '127.0.0.1';
const rateText = values['rate-limit'];
const rateLimit =
  rateText === undefined ? {} : { rateLimit: integer('rate-limit', rateText, 0, 1, 1_000_000) };
const rongcloud = {
  appKey: values['rong-app-key'] ?? env.RONGCLOUD_APP_KEY ?? 'imbot-app-key',
  appSecret: values['rong-app-secret'] ?? env.RONGCLOUD_APP_SECRET ?? 'imbot-app-secret',
  ...rateLimit,
};

let emulator: Awaited<ReturnType<typeof startEmulator>>;
try {
  emulator = await startEmulator({
    port,
    host,
    seed,
    tencent: {
      sdkAppId,
      secretKey,
      admin,
      callbackUrl: values['callback-url'] ?? env.TENCENT_CALLBACK_URL,
      callbackToken: values['callback-token'] ?? env.TENCENT_CALLBACK_TOKEN,
      robots: values.robots?.split(',').filter(Boolean),
      ...rateLimit,
    },
    rongcloud,
  });
} catch (error) {
  const code = (error as { code?: string }).code;
  if (code === 'EADDRINUSE') fail(`port ${port} on ${host} is taken: pass --port 0 for any free one`, 1);
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') fail(`cannot listen on ${host}`, 1);
  const message = (error as Error).message.split('\n')[0] as string;
  // startEmulator names its options as the API has them; a user of the command typed a flag.
  const option = /^startEmulator\.(\w+\.\w+)(?:\.\d+)?: (.*)$/.exec(message);
  const flag = option && FLAGS[option[1] as string];
  if (flag) fail(`${flag}: ${option[2]}`);
  fail(message, 1);
}

const callbackUrl = values['callback-url'] ?? env.TENCENT_CALLBACK_URL;
const callbackToken = values['callback-token'] ?? env.TENCENT_CALLBACK_TOKEN;
const callbackLine = callbackUrl
  ? `  Robot callbacks go to ${callbackUrl}, ${callbackToken ? `signed with the callback token ${callbackToken}` : 'unsigned (no --callback-token)'}`
  : "  Robot callbacks: none set. A user's message is accepted and no bot hears it: pass --callback-url\n  (your bot's webhook, such as http://127.0.0.1:3000/im/webhook) and --callback-token.";
// Said when it happens too, once per robot: the banner has long scrolled away by then.
const unheard = new Set<string>();
emulator.tencent.state.on('unheard', (message) => {
  if (unheard.has(message.to)) return;
  unheard.add(message.to);
  process.stderr.write(
    `imbot-emulator: ${message.from} wrote to ${message.to}, and no bot hears it: no callback URL is set (--callback-url)\n`,
  );
});

const userSig = genUserSig({ sdkAppId, secretKey, userId: admin, expireSeconds: 86_400 });
process.stdout.write(`imbot emulator listening on ${emulator.url}
Web console: ${emulator.url}/

Tencent Cloud Chat: sdkAppId ${sdkAppId}, admin ${admin}, secretKey ${secretKey}, backup origin ${emulator.tencent.backupUrl}
${callbackLine}
Try it:
  curl -s -X POST '${emulator.url}/v4/openim_robot_http_svc/get_all_robots?sdkappid=${sdkAppId}&identifier=${admin}&usersig=${userSig}&random=99999999&contenttype=json' -d '{}'
RongCloud: App Key ${rongcloud.appKey}, App Secret ${rongcloud.appSecret}, backup origin ${emulator.rongcloud.backupUrl}
Control API: ${emulator.url}/_emulator/health
`);

const stop = () => {
  void emulator.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
