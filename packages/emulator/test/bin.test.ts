import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { genUserSig } from '@imbot/core';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const run = promisify(execFile);

async function curl(url: string): Promise<Record<string, unknown>> {
  const { stdout } = await run('curl', ['-s', '-X', 'POST', url, '-d', '{}']);
  return JSON.parse(stdout);
}

describe('imbot-emulator', () => {
  it('starts from the command line, prints its URL, and answers curl as the cloud does', async () => {
    expect(existsSync(bin), 'dist/bin.js is missing: run `pnpm build` first').toBe(true);
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
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (data: Buffer) => {
          out += data.toString();
          const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
          if (match) resolve(match[1] as string);
        });
        child.once('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
      });
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
