import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const packages = fileURLToPath(new URL('../../', import.meta.url));

/** Every source file of every package but the emulator (a fake cloud, which may fail as it likes). */
function sources(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) files.push(path);
    }
  };
  for (const name of readdirSync(packages)) if (name !== 'emulator') walk(join(packages, name, 'src'));
  return files;
}

describe('the sources', () => {
  it('throw only ImbotErrors: no TypeError, RangeError or bare Error outside errors.ts', () => {
    const offenders = sources()
      .filter((file) => !file.endsWith(join('core', 'src', 'errors.ts')))
      .flatMap((file) =>
        readFileSync(file, 'utf8')
          .split('\n')
          .map((line, i) => ({ line, at: `${relative(packages, file)}:${i + 1}` }))
          .filter(({ line }) => /new (Type|Range|Syntax)?Error\(/.test(line))
          .map(({ at }) => at),
      );
    expect(offenders).toEqual([]);
  });

  it("keep core's import graph loadable where Node is not: undici only as a type or a lazy import, and only the built-ins Workers' nodejs_compat offers", () => {
    const offered = new Set(['node:crypto', 'node:timers/promises', 'node:zlib', 'node:module']);
    const offenders = sources()
      .filter((file) => file.includes(join('core', 'src')))
      .flatMap((file) =>
        [...readFileSync(file, 'utf8').matchAll(/^import (?!type )[^;]*? from '([^']+)'/gms)]
          .map((match) => match[1] as string)
          .filter((name) => name === 'undici' || (name.startsWith('node:') && !offered.has(name)))
          .map((name) => `${relative(packages, file)}: ${name}`),
      );
    expect(offenders).toEqual([]);
  });

  it('keep the neutral errors free of any cloud', () => {
    const text = readFileSync(join(packages, 'core', 'src', 'errors.ts'), 'utf8');
    expect(text.match(/tencent|rongcloud|rong cloud|usersig|@RBT/gi)).toBeNull();
  });
});
