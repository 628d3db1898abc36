import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const dir = fileURLToPath(new URL('..', import.meta.url));
const run = (...args: string[]) =>
  promisify(execFile)(
    process.execPath,
    ['--conditions=@imbot/source', '--import', 'tsx', 'src/main.ts', ...args],
    {
      cwd: dir,
      timeout: 30_000,
    },
  );

describe('the demo, once', () => {
  it.each(['tencent', 'rongcloud'])(
    'answers hello on %s with a reply that grew in at least three steps',
    async (cloud) => {
      const { stdout } = await run('--once', 'hello', '--cloud', cloud);
      const lines = stdout.trim().split('\n');
      expect(lines[0]).toBe('you: hello');
      expect(lines[1]).toMatch(/^bot: You said "hello"\. I am the imbot demo bot/);
      const updates = Number(/streamed in (\d+) updates/.exec(lines.at(-1) ?? '')?.[1]);
      expect(lines.at(-1)).toMatch(/^\(finished, /);
      expect(updates).toBeGreaterThanOrEqual(3);
    },
    40_000,
  );
});
