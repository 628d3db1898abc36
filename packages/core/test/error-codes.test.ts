import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { IMBOT_ERROR_CODES } from '../src/error-codes.js';

const packages = fileURLToPath(new URL('../../', import.meta.url));

/** Every package's non-test sources, with the package's published name. */
function sources(): { file: string; pkg: string; text: string }[] {
  const found: { file: string; pkg: string; text: string }[] = [];
  for (const dir of readdirSync(packages)) {
    const pkg = JSON.parse(readFileSync(join(packages, dir, 'package.json'), 'utf8')).name as string;
    const walk = (path: string) => {
      for (const entry of readdirSync(path, { withFileTypes: true })) {
        const child = join(path, entry.name);
        if (entry.isDirectory()) walk(child);
        else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts'))
          found.push({ file: relative(packages, child), pkg, text: readFileSync(child, 'utf8') });
      }
    };
    walk(join(packages, dir, 'src'));
  }
  return found;
}

/** `new ImbotError('CODE'`, `new ApiError(\n 'CODE'`, `super('CODE'` in an error subclass: the codes thrown. */
const thrown = /(?:new (?:ImbotError|ApiError|CloudApiError)|super)\(\s*'([A-Z][A-Z0-9_]*)'/g;
/** An error made with a code that is not a literal: the scan could not see it. */
const computed = /new (?:ImbotError|ApiError|CloudApiError)\(\s*(?![\s'])/g;

describe('IMBOT_ERROR_CODES', () => {
  const files = sources();

  it('lists exactly the codes the packages throw, each under the package that throws it', () => {
    const seen = new Map<string, Set<string>>();
    for (const { pkg, text } of files)
      for (const match of text.matchAll(thrown)) {
        const code = match[1] as string;
        seen.set(code, (seen.get(code) ?? new Set()).add(pkg));
      }
    const listed = Object.fromEntries(Object.entries(IMBOT_ERROR_CODES).map(([code, pkg]) => [code, [pkg]]));
    const actual = Object.fromEntries([...seen].map(([code, pkgs]) => [code, [...pkgs].sort()]));
    expect(actual).toEqual(listed);
  });

  it('is the whole list: no package makes an ImbotError from a computed code', () => {
    const offenders = files.flatMap(({ file, text }) =>
      [...text.matchAll(computed)].map((m) => `${file}:${text.slice(0, m.index).split('\n').length}`),
    );
    expect(offenders).toEqual([]);
  });
});
