import { fileURLToPath } from 'node:url';
import { defineProject } from 'vitest/config';

const build = fileURLToPath(new URL('./vitest.build.ts', import.meta.url));

/**
 * One vitest project of the workspace: tests beside the code and in `test/`, with workspace packages
 * resolved to their TypeScript sources (the `@imbot/source` export condition). The few tests that run
 * the built packages get a build brought up to date first, whether vitest runs from the root or
 * inside the package.
 */
export function imbotProject(name: string) {
  return defineProject({
    resolve: { conditions: ['@imbot/source'] },
    ssr: { resolve: { conditions: ['@imbot/source'] } },
    test: { name, include: ['src/**/*.test.ts', 'test/**/*.test.ts'], globalSetup: [build] },
  });
}
