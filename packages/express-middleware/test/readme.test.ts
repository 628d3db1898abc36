import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

describe('the README', () => {
  it("'A complete app' runs as it is and prints the streamed answer", async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## A complete app'));
    const code = /```js\n([\s\S]*?)```/.exec(section)?.[1];
    const expected = /```\n(\[[\s\S]*?)```/.exec(section)?.[1];
    expect(code, 'the README has a js block under "A complete app"').toBeTruthy();
    expect(code?.split('\n').filter((line) => line.trim()).length).toBeLessThanOrEqual(20);
    // Run from inside the package so that its dependencies resolve; needs the build (pnpm build).
    const file = `${packageDir}readme-app.test-run.mjs`;
    writeFileSync(file, code as string);
    try {
      const { stdout } = await promisify(execFile)(process.execPath, [file], {
        env: { ...process.env, PORT: '0' },
      });
      expect(stdout).toBe(expected);
    } finally {
      rmSync(file, { force: true });
    }
  }, 20_000);
});
