import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

describe("the README's vitest example", () => {
  it('fails when no app answers: the robot does not exist and nothing answers the callback', async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## In your own vitest suite'));
    const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    expect(code, 'the README has a ts block under "In your own vitest suite"').toBeTruthy();
    // Inside the package, so that `@imbot/emulator` resolves to it (its build) as in a user's project.
    const dir = `${packageDir}.readme-example/`;
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}example.test.ts`, code as string);
    writeFileSync(`${dir}vitest.config.mjs`, "export default { test: { include: ['example.test.ts'] } };\n");
    const vitest = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs');
    try {
      const run = await promisify(execFile)(
        process.execPath,
        [vitest, 'run', '--root', dir, '--reporter', 'json', '--outputFile', `${dir}report.json`],
        { cwd: dir, timeout: 60_000 },
      ).catch((error: { code: number }) => error);
      expect(run).toMatchObject({ code: 1 });
      const report = JSON.parse(readFileSync(`${dir}report.json`, 'utf8')) as {
        testResults: { assertionResults: { title: string; status: string; failureMessages: string[] }[] }[];
      };
      const results = report.testResults.flatMap((file) => file.assertionResults);
      expect(results.map(({ title, status }) => [title, status])).toEqual([
        ['answers a user', 'failed'],
        ['survives a flaky cloud', 'passed'],
      ]);
      expect(results[0]?.failureMessages.join('\n')).toMatch(/@RBT#helper/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
