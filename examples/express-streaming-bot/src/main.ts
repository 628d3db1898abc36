/**
 * The demo: the emulator, this bot, and the web console to chat with it. `--help` lists the options
 * (src/cli.ts); a bad one ends with one line on stderr and exit code 2.
 *
 * SIGTERM (a container stopping) and SIGINT (Ctrl-C) alike stop taking messages and let the answers
 * in progress finish, for up to 10 s, before the process exits.
 */
import { DEMO_USAGE, parseDemoArgs } from './cli.js';
import { ask, startDemo } from './demo.js';

const command = parseDemoArgs(process.argv.slice(2), process.env);
if (command.kind === 'help') {
  process.stdout.write(DEMO_USAGE);
  process.exit(0);
}
if (command.kind === 'error') {
  console.error(`demo: ${command.message}`);
  process.exit(2);
}

const errors: Error[] = [];
const once = command.once;
let demo: Awaited<ReturnType<typeof startDemo>>;
try {
  demo = await startDemo({
    cloud: command.cloud,
    port: command.port,
    ...(command.emulatorUrl ? { emulatorUrl: command.emulatorUrl } : {}),
    ...(once !== undefined
      ? { onError: (error: Error) => void errors.push(error) }
      : { log: (line: string) => console.log(line) }),
  });
} catch (error) {
  console.error(`demo: ${startFailure(error, command.emulatorUrl)}`);
  process.exit(1);
}

/** What went wrong at start, in one line: where nothing answers at `--emulator`'s URL, what to do. */
function startFailure(error: unknown, emulatorUrl: string | undefined): string {
  const message = (error as Error).message.split('\n')[0] ?? String(error);
  const code = (error as { cause?: { code?: unknown } }).cause?.code;
  if (emulatorUrl && (message === 'fetch failed' || (error as { code?: unknown }).code === 'NETWORK')) {
    const why = typeof code === 'string' ? ` (${code})` : '';
    return `nothing answers at ${emulatorUrl}${why}: start the emulator there (npx imbot-emulator --port ${new URL(emulatorUrl).port || 80}), or leave out --emulator to have the demo start one`;
  }
  return message;
}

if (once !== undefined) {
  console.log(`you: ${once}`);
  process.stdout.write('bot: ');
  let shown = 0;
  const { reply, updates } = await ask(demo, once, (message) => {
    process.stdout.write(message.text.slice(shown));
    shown = message.text.length;
  });
  console.log(`\n(${reply.state}, streamed in ${updates} updates)`);
  await demo.close();
  for (const error of errors)
    console.error(`error: ${(error.cause as Error | undefined)?.message ?? error.message}`);
  process.exit(reply.state === 'finished' && errors.length === 0 ? 0 : 1);
}

console.log(`imbot demo on ${command.cloud === 'tencent' ? 'Tencent Cloud Chat' : 'RongCloud'}, all local.`);
console.log(`Open the console: ${demo.consoleUrl}`);
console.log('Press Ctrl-C to stop. Each message in and each reply out is logged here.');
let stopping = false;
const stop = (signal: NodeJS.Signals) => {
  if (stopping) process.exit(130);
  stopping = true;
  console.log(`\n${signal}: finishing the answers in progress…`);
  void demo.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
