/**
 * The demo: the emulator, this bot, and the web console to chat with it.
 *
 *   pnpm start                    runs until Ctrl-C; open the console URL it prints
 *   pnpm start --once "hello"     says hello, prints the reply as it grows, exits when it is finished
 *   --cloud rongcloud             the same bot on RongCloud
 *   --emulator <url>              use a running emulator (`npx imbot-emulator`) instead of starting one
 *
 * SIGTERM (a container stopping) and SIGINT (Ctrl-C) alike stop taking messages and let the answers
 * in progress finish, for up to 10 s, before the process exits.
 */
import { parseArgs } from 'node:util';
import { ask, type Cloud, startDemo } from './demo.js';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: {
    once: { type: 'string' },
    cloud: { type: 'string', default: 'tencent' },
    port: { type: 'string' },
    emulator: { type: 'string' },
  },
});
const cloud = values.cloud as Cloud;
if (cloud !== 'tencent' && cloud !== 'rongcloud') {
  console.error(`--cloud is tencent or rongcloud, not ${cloud}`);
  process.exit(2);
}

const errors: Error[] = [];
const demo = await startDemo({
  cloud,
  port: Number(values.port ?? (values.once ? 0 : 5710)),
  ...(values.emulator ? { emulatorUrl: values.emulator } : {}),
  ...(values.once !== undefined ? { onError: (error: Error) => void errors.push(error) } : {}),
});

if (values.once !== undefined) {
  console.log(`you: ${values.once}`);
  process.stdout.write('bot: ');
  let shown = 0;
  const { reply, updates } = await ask(demo, values.once, (message) => {
    process.stdout.write(message.text.slice(shown));
    shown = message.text.length;
  });
  console.log(`\n(${reply.state}, streamed in ${updates} updates)`);
  await demo.close();
  for (const error of errors)
    console.error(`error: ${(error.cause as Error | undefined)?.message ?? error.message}`);
  process.exit(reply.state === 'finished' && errors.length === 0 ? 0 : 1);
}

console.log(`imbot demo on ${cloud === 'tencent' ? 'Tencent Cloud Chat' : 'RongCloud'}, all local.`);
console.log(`Open the console: ${demo.consoleUrl}`);
console.log('Press Ctrl-C to stop.');
let stopping = false;
const stop = (signal: NodeJS.Signals) => {
  if (stopping) process.exit(130);
  stopping = true;
  console.log(`\n${signal}: finishing the answers in progress…`);
  void demo.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
