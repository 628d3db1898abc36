import { defineProject } from 'vitest/config';

/**
 * One vitest project of the workspace: tests beside the code and in `test/`, with workspace packages
 * resolved to their TypeScript sources (the `@imbot/source` export condition), so no build is needed.
 */
export function imbotProject(name: string) {
  return defineProject({
    resolve: { conditions: ['@imbot/source'] },
    ssr: { resolve: { conditions: ['@imbot/source'] } },
    test: { name, include: ['src/**/*.test.ts', 'test/**/*.test.ts'] },
  });
}
