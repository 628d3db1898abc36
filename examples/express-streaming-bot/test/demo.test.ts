import { execFile } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import { ask, startDemo } from '../src/demo.js';

const dir = fileURLToPath(new URL('..', import.meta.url));
const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  promisify(execFile)(
    process.execPath,
    ['--conditions=@imbot/source', '--import', 'tsx', 'src/main.ts', ...args],
    { cwd: dir, timeout: 30_000, env: { ...process.env, ...env } },
  );

/** A loopback port nothing listens on: taken, then let go. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('the demo, once', () => {
  it.each(['tencent', 'rongcloud'])(
    'answers hello on %s with a reply that grew in at least three steps',
    async (cloud) => {
      const { stdout } = await run(['--once', 'hello', '--cloud', cloud], {
        OPENAI_BASE_URL: '',
        OPENAI_API_KEY: '',
      });
      const lines = stdout.trim().split('\n');
      expect(lines[0]).toBe('you: hello');
      expect(lines[1]).toMatch(/^bot: You said "hello"\. I am the imbot demo bot/);
      const updates = Number(/streamed in (\d+) updates/.exec(lines.at(-1) ?? '')?.[1]);
      expect(lines.at(-1)).toMatch(/^\(finished, /);
      expect(updates).toBeGreaterThanOrEqual(3);
    },
    40_000,
  );

  it("exits non-zero with the model's error when the model cannot be reached", async () => {
    const port = await closedPort();
    const failed = await run(['--once', 'hello'], {
      OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1`,
      OPENAI_API_KEY: 'not-a-real-key',
    }).catch((error: { code: number; stdout: string; stderr: string }) => error);
    expect(failed).toMatchObject({ code: 1 });
    const { stdout, stderr } = failed as { stdout: string; stderr: string };
    expect(stdout).toContain('(answer interrupted)');
    expect(stderr).toContain(`error: could not reach the model at http://127.0.0.1:${port}/v1: `);
    expect(stderr).toContain('ECONNREFUSED');
    expect(stderr + stdout).not.toContain('not-a-real-key');
  }, 40_000);
});

describe('the demo, running', () => {
  it('logs one line for each message in and each reply out', async () => {
    vi.stubEnv('OPENAI_BASE_URL', '');
    const lines: string[] = [];
    const demo = await startDemo({ log: (line) => lines.push(line) });
    try {
      await ask(demo, 'hello');
      await vi.waitFor(() => expect(lines).toHaveLength(2));
      expect(lines[0]).toBe('in   you → @RBT#demo: "hello"');
      expect(lines[1]).toMatch(
        /^out {2}@RBT#demo → you: \d+ chars streamed in \d+ calls, \d+ ms \(completed\)$/,
      );
    } finally {
      await demo.close();
      vi.unstubAllEnvs();
    }
  }, 20_000);
});
