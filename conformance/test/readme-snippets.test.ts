import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * Every TypeScript block of every package README type-checks as written, against the built packages
 * as a user installs them: no undefined name, no option that does not exist, no wrong call.
 */

const root = fileURLToPath(new URL('../../', import.meta.url));
// Inside this package, so that the snippets' imports resolve to the workspace packages' builds.
const dir = fileURLToPath(new URL('../.readme-snippets/', import.meta.url));

// The main README's blocks are fragments of one walk-through; the package READMEs' stand alone.
const readmes = readdirSync(`${root}packages`).map(
  (name) => [name, `${root}packages/${name}/README.md`] as const,
);
const snippets = readmes.flatMap(([name, path]) =>
  [...readFileSync(path, 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((match, i) => ({
    name: `${name}-${i + 1}`,
    code: match[1] as string,
  })),
);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('package README snippets', () => {
  it('are there to check', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(8);
  });

  it.each(snippets.map((s) => [s.name, s.code]))('%s type-checks as written', (name, code) => {
    mkdirSync(dir, { recursive: true });
    // A module of its own, so that top-level await and imports are allowed.
    const file = `${dir}${name}.ts`;
    writeFileSync(file, `${code}\nexport {};\n`);
    const program = ts.createProgram([file], {
      target: ts.ScriptTarget.ES2022,
      lib: ['lib.es2023.d.ts'],
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: ['node'],
    });
    const problems = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file?.fileName === file)
      .map((d) => {
        const line =
          d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0;
        return `line ${line}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
      });
    expect(problems).toEqual([]);
  });
});
