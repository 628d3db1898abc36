import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

/**
 * Vitest's global set-up: brings every package's build up to date (`tsc -b`, half a second when
 * nothing changed) before any test runs, because a few tests run what a user runs (the built
 * `imbot-emulator` command, a package imported by name, the README's app). So `vitest run` passes on a
 * fresh clone, and those tests never run a build older than the sources.
 */
export default function buildPackages(): void {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-b'], { cwd: import.meta.dirname, stdio: 'inherit' });
}
