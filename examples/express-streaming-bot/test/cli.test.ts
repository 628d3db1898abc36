import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseDemoArgs } from '../src/cli.js';

describe('the demo’s arguments', () => {
  it('reads the options, with the console on 5710 and --once on any free port', () => {
    expect(parseDemoArgs([])).toEqual({ kind: 'run', cloud: 'tencent', port: 5710 });
    expect(parseDemoArgs(['--', '--once', 'hi', '--cloud', 'rongcloud'])).toEqual({
      kind: 'run',
      cloud: 'rongcloud',
      port: 0,
      once: 'hi',
    });
    expect(parseDemoArgs(['--port', '0', '--emulator', 'http://127.0.0.1:5710/'])).toEqual({
      kind: 'run',
      cloud: 'tencent',
      port: 0,
      emulatorUrl: 'http://127.0.0.1:5710',
    });
    expect(parseDemoArgs(['-h'])).toEqual({ kind: 'help' });
  });

  it.each([
    [['--bogus'], "Unknown option '--bogus' (see --help)"],
    [['--once'], "Option '--once <value>' argument missing (see --help)"],
    [['--once', ' '], '--once needs something to say, as in --once "hello"'],
    [['--port', 'abc'], "--port is a port number from 0 to 65535, not 'abc'"],
    [['--port', '70000'], "--port is a port number from 0 to 65535, not '70000'"],
    [['--cloud', 'slack'], "--cloud is tencent or rongcloud, not 'slack'"],
    [
      ['--emulator', 'localhost'],
      "--emulator is the emulator's URL, as in http://127.0.0.1:5710, not 'localhost'",
    ],
    [['hello'], "unexpected argument 'hello' (see --help)"],
    [
      ['--once', 'hi', '--emulator', 'http://127.0.0.1:5710'],
      "--once starts an emulator of its own: leave out --emulator, or chat in the running emulator's console",
    ],
  ])('refuses %j with one line', (argv, message) => {
    expect(parseDemoArgs(argv)).toEqual({ kind: 'error', message });
  });

  it('takes `npm run demo --once hello` (npm keeps --once, passes hello on) as --once hello', () => {
    expect(parseDemoArgs(['hello'], { npm_config_once: 'true' })).toMatchObject({
      kind: 'run',
      once: 'hello',
    });
  });

  it('says to put -- first when npm kept more than --once', () => {
    expect(parseDemoArgs(['hi', 'rongcloud'], { npm_config_once: 'true', npm_config_cloud: 'true' })).toEqual(
      {
        kind: 'error',
        message: `npm kept --once, --cloud for itself: put -- before the demo's options, as in npm run demo -- --once "hello"`,
      },
    );
  });
});

describe('npm run demo, given a bad argument', () => {
  it('exits 2 with one line on stderr and no stack', async () => {
    const root = fileURLToPath(new URL('../../..', import.meta.url));
    const error = (await promisify(execFile)(process.execPath, ['scripts/demo.mjs', '--port', 'abc'], {
      cwd: root,
    }).catch((e) => e)) as { code: number; stderr: string };
    expect(error.code).toBe(2);
    expect(error.stderr).toBe("demo: --port is a port number from 0 to 65535, not 'abc'\n");
  });
});
