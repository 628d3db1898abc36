import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const dir = fileURLToPath(new URL('..', import.meta.url));

describe('examples/agents-bot', () => {
  it('answers with a streamed message, finished, and exits', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--conditions=@imbot/source', '--import', 'tsx', 'src/main.ts', '--say', 'hello'],
      { cwd: dir, timeout: 30_000 },
    );
    expect(stdout).toBe(
      'you: hello\nagent: You asked "hello". This answer is streamed by an AgentApplication, word by word.\n',
    );
  }, 40_000);
});
