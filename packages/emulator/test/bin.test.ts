import { execFile, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { genUserSig } from '@imbot/core';
import { describe, expect, it } from 'vitest';

// The command as package managers link it: the launcher, which runs the build.
const bin = fileURLToPath(new URL('../bin/imbot-emulator.js', import.meta.url));
const run = promisify(execFile);

async function curl(url: string): Promise<Record<string, unknown>> {
  const { stdout } = await run('curl', ['-s', '-X', 'POST', url, '-d', '{}']);
  return JSON.parse(stdout);
}

describe('imbot-emulator', () => {
  it('starts from the command line, prints its URL, and answers curl as the cloud does', async () => {
    expect(existsSync(new URL('../dist/bin.js', import.meta.url)), 'dist/ is missing: run `pnpm build`').toBe(
      true,
    );
    const child = spawn(process.execPath, [
      bin,
      '--port',
      '0',
      '--secret-key',
      'cli-key',
      '--robots',
      '@RBT#001,@RBT#002,@RBT#003',
    ]);
    try {
      let out = '';
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (data: Buffer) => {
          out += data.toString();
          const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
          if (match) resolve(match[1] as string);
        });
        child.once('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
      });
      // The banner names the web console, which serves its page and its icon there.
      expect(out).toContain(`Web console: ${url}/\n`);
      const page = await (await fetch(`${url}/`)).text();
      expect(page).toContain('href="/favicon.svg"');
      const icon = await fetch(`${url}/favicon.ico`);
      expect([icon.status, icon.headers.get('content-type')]).toEqual([200, 'image/svg+xml']);
      await icon.arrayBuffer();
      const query = (usersig: string) =>
        `${url}/v4/openim_robot_http_svc/get_all_robots?sdkappid=1400000000&identifier=administrator&usersig=${usersig}&random=99999999&contenttype=json`;
      const valid = genUserSig({
        sdkAppId: 1400000000,
        secretKey: 'cli-key',
        userId: 'administrator',
        expireSeconds: 600,
      });
      expect(await curl(query(valid))).toMatchObject({
        ActionStatus: 'OK',
        ErrorInfo: '',
        ErrorCode: 0,
        Robot_Account: ['@RBT#001', '@RBT#002', '@RBT#003'],
      });
      const forged = genUserSig({
        sdkAppId: 1400000000,
        secretKey: 'guessed',
        userId: 'administrator',
        expireSeconds: 600,
      });
      expect(await curl(query(forged))).toMatchObject({ ActionStatus: 'FAIL', ErrorCode: 70009 });
    } finally {
      child.kill('SIGTERM');
    }
  });
});

describe('imbot-emulator without --callback-url', () => {
  it('says in its banner that no bot hears messages, and says so again when a user writes to a robot', async () => {
    const child = spawn(process.execPath, [bin, '--port', '0', '--robots', '@RBT#001']);
    try {
      let out = '';
      let err = '';
      child.stderr.on('data', (data: Buffer) => {
        err += data.toString();
      });
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (data: Buffer) => {
          out += data.toString();
          const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
          if (match && out.includes('Control API')) resolve(match[1] as string);
        });
        child.once('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
      });
      expect(out).toContain("Robot callbacks: none set. A user's message is accepted and no bot hears it");
      const sent = await fetch(`${url}/_emulator/tencent/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ from: 'alice', to: '@RBT#001', text: 'hello?' }),
      });
      expect(sent.status).toBe(200);
      await expect
        .poll(() => err)
        .toBe(
          'imbot-emulator: alice wrote to @RBT#001, and no bot hears it: no callback URL is set (--callback-url)\n',
        );
    } finally {
      child.kill('SIGTERM');
    }
  });
});

describe('imbot-emulator, given bad arguments', () => {
  const fails = async (args: string[], command = bin) => {
    const error = (await run(process.execPath, [command, ...args]).catch((e) => e)) as {
      code: number;
      stderr: string;
    };
    return { code: error.code, lines: error.stderr.trim().split('\n') };
  };

  it.each([
    [['--port', 'abc'], /--port must be a whole number from 0 to 65535, not "abc"/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['--port'], /'--port <value>' argument missing/],
    [['--sdk-app-id', '1.5'], /--sdk-app-id must be a whole number/],
    // Checked by startEmulator, and named by the flag the user typed, not the option inside.
    [
      ['--callback-url', 'localhost:3000/im/webhook'],
      /^imbot-emulator: --callback-url is your bot's webhook URL/,
    ],
    [['--secret-key', ''], /^imbot-emulator: --secret-key: /],
    [['--robots', 'helper'], /^imbot-emulator: --robots: .*@RBT#/],
  ])('%j exits 2 with one line saying what is wrong', async (args, message) => {
    const { code, lines } = await fails(args);
    expect(code).toBe(2);
    expect(lines).toEqual([expect.stringMatching(message)]);
    expect(lines[0]).toMatch(/^imbot-emulator: .* \(see --help\)$/);
  });

  it('exits 1 with one line when the port is taken', async () => {
    const { createServer } = await import('node:net');
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const { code, lines } = await fails(['--port', String(port)]);
      expect(code).toBe(1);
      expect(lines).toEqual([
        `imbot-emulator: port ${port} on 127.0.0.1 is taken: pass --port 0 for any free one`,
      ]);
    } finally {
      taken.close();
    }
  });

  it('prints its usage with --help and exits 0', async () => {
    const { stdout } = await run(process.execPath, [bin, '--help']);
    expect(stdout).toMatch(/^imbot-emulator: local Tencent Cloud Chat and RongCloud/);
  });

  it('says in one line that the copy is not built yet when dist/ is missing', async () => {
    const copy = mkdtempSync(join(tmpdir(), 'imbot-emulator-'));
    try {
      mkdirSync(join(copy, 'bin'));
      copyFileSync(bin, join(copy, 'bin', 'imbot-emulator.js'));
      const { code, lines } = await fails(['--help'], join(copy, 'bin', 'imbot-emulator.js'));
      expect(code).toBe(1);
      expect(lines).toEqual([
        'imbot-emulator: this copy is not built yet; run `npm run build` at the root of the clone.',
      ]);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});
