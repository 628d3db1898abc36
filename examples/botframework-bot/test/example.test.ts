import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const dir = fileURLToPath(new URL('..', import.meta.url));

describe('examples/botframework-bot', () => {
  it('asks for a name in a dialog, then streams its answer', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--conditions=@imbot/source', '--import', 'tsx', 'src/main.ts', '--say', 'hello', '--say', 'Ada'],
      { cwd: dir, timeout: 30_000 },
    );
    expect(stdout.trim().split('\n')).toEqual([
      'you: hello',
      'assistant: Hello! What is your name?',
      'you: Ada',
      'assistant: Nice to meet you, Ada. This answer reaches you the way a language model writes: a few words at a time, in one message that grows until it is finished.',
    ]);
  }, 40_000);
});
