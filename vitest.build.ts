import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

/**
 * Vitest's global set-up, in every project's config: brings every package's build up to date
 * (`tsc -b` and core's bundle, under a second when nothing changed) before any test runs, because a few tests run what a
 * user runs (the built `imbot-emulator` command, a package imported by name, the README's app). So
 * `vitest run` passes on a fresh clone, from the root or inside one package, and those tests never run
 * a build older than the sources. Built once per run, however many projects ask.
 */
export default function buildPackages(): void {
  if (process.env.IMBOT_PACKAGES_BUILT === String(process.pid)) return;
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-b'], { cwd: import.meta.dirname, stdio: 'inherit' });
  execFileSync(process.execPath, ['scripts/bundle-core.mjs'], { cwd: import.meta.dirname, stdio: 'inherit' });
  process.env.IMBOT_PACKAGES_BUILT = String(process.pid);
}
