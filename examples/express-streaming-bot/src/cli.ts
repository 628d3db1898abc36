import { parseArgs } from 'node:util';
import type { Cloud } from './demo.js';

/** What the demo was asked to do. */
export type DemoCommand =
  | { kind: 'run'; cloud: Cloud; port: number; once?: string; emulatorUrl?: string }
  | { kind: 'help' }
  | { kind: 'error'; message: string };

export const DEMO_USAGE = `imbot demo: the emulator, a streaming bot and the web console, all local.

Usage: npm run demo -- [options]

Options:
  --once <text>      say <text> to the bot, print the reply as it grows, exit when it is finished
  --cloud <name>     tencent (default) or rongcloud
  --port <n>         the console's port, 0 for any free one (default 5710; --once: any)
  --emulator <url>   use a running emulator (npx imbot-emulator) instead of starting one
                     (not with --once, which starts its own)
  -h, --help         this text
`;

/**
 * Reads the demo's arguments. Pure, so that every refusal is tested: each error is one line that
 * says what to write instead. `env` matters for one case: `npm run demo --once hello` (without `--`)
 * makes npm keep `--once` for itself (as `npm_config_once=true`) and pass only `hello` on.
 */
export function parseDemoArgs(
  argv: readonly string[],
  env: Record<string, string | undefined> = {},
): DemoCommand {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    // Node's own words, without the advice on '-'-prefixed positionals that the demo has none of.
    const reason = (error as Error).message.split('\n')[0]?.replace(/\. To specify a positional.*$/, '');
    return { kind: 'error', message: `${reason} (see --help)` };
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: 'help' };
  let once = values.once;
  if (positionals.length > 0) {
    const eatenByNpm = ['once', 'cloud', 'port', 'emulator'].filter(
      (name) => env[`npm_config_${name}`] === 'true',
    );
    if (
      eatenByNpm.length === 1 &&
      eatenByNpm[0] === 'once' &&
      positionals.length === 1 &&
      once === undefined
    ) {
      once = positionals[0];
    } else if (eatenByNpm.length > 0) {
      return {
        kind: 'error',
        message: `npm kept --${eatenByNpm.join(', --')} for itself: put -- before the demo's options, as in npm run demo -- --once "hello"`,
      };
    } else {
      return { kind: 'error', message: `unexpected argument '${positionals[0]}' (see --help)` };
    }
  }
  if (once !== undefined && once.trim() === '')
    return { kind: 'error', message: '--once needs something to say, as in --once "hello"' };
  const cloud = values.cloud ?? 'tencent';
  if (cloud !== 'tencent' && cloud !== 'rongcloud') {
    return { kind: 'error', message: `--cloud is tencent or rongcloud, not '${cloud}'` };
  }
  const port = values.port === undefined ? (once === undefined ? 5710 : 0) : Number(values.port);
  if (!/^\d+$/.test(values.port ?? '0') || !Number.isInteger(port) || port > 65535) {
    return { kind: 'error', message: `--port is a port number from 0 to 65535, not '${values.port}'` };
  }
  if (values.emulator !== undefined && !/^https?:\/\/[^/\s]+\/?$/.test(values.emulator)) {
    return {
      kind: 'error',
      message: `--emulator is the emulator's URL, as in http://127.0.0.1:5710, not '${values.emulator}'`,
    };
  }
  if (once !== undefined && values.emulator !== undefined) {
    return {
      kind: 'error',
      message:
        "--once starts an emulator of its own: leave out --emulator, or chat in the running emulator's console",
    };
  }
  return {
    kind: 'run',
    cloud,
    port,
    ...(once !== undefined ? { once } : {}),
    ...(values.emulator !== undefined ? { emulatorUrl: values.emulator.replace(/\/$/, '') } : {}),
  };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: argv.filter((arg) => arg !== '--'),
    allowPositionals: true,
    options: {
      once: { type: 'string' },
      cloud: { type: 'string' },
      port: { type: 'string' },
      emulator: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
