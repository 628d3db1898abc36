import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

describe('examples/rongcloud-bot', () => {
  it('answers on RongCloud with a streamed reply', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--conditions=@imbot/source', '--import', 'tsx', 'src/main.ts', '--say', 'hello'],
      { cwd: fileURLToPath(new URL('..', import.meta.url)), timeout: 30_000 },
    );
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toBe('you: hello');
    expect(lines[1]).toMatch(/^bot: You said "hello"\. I am the imbot demo bot/);
    expect(lines[2]).toMatch(/^\(finished, streamed in \d+ calls\)$/);
    expect(Number(/in (\d+) calls/.exec(lines[2] ?? '')?.[1])).toBeGreaterThan(2);
  }, 40_000);
});
