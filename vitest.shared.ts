import { fileURLToPath } from 'node:url';
import { configDefaults, defineProject } from 'vitest/config';

const build = fileURLToPath(new URL('./vitest.build.ts', import.meta.url));

/**
 * One vitest project of the workspace: tests beside the code and in `test/`, with workspace packages
 * resolved to their TypeScript sources (the `@imbot/source` export condition). The few tests that run
 * the built packages get a build brought up to date first, whether vitest runs from the root or
 * inside the package.
 */
export function imbotProject(
  name: string,
  files: { include?: string[]; exclude?: string[]; root?: string; groupOrder?: number } = {},
) {
  return defineProject({
    ...(files.root ? { root: files.root } : {}),
    resolve: { conditions: ['@imbot/source'] },
    ssr: { resolve: { conditions: ['@imbot/source'] } },
    test: {
      name,
      include: files.include ?? ['src/**/*.test.ts', 'test/**/*.test.ts'],
      ...(files.exclude ? { exclude: [...configDefaults.exclude, ...files.exclude] } : {}),
      // A group of its own, its files one after another: nothing else runs beside them.
      ...(files.groupOrder !== undefined
        ? { sequence: { groupOrder: files.groupOrder }, fileParallelism: false }
        : {}),
      globalSetup: [build],
    },
  });
}
