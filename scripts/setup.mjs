// Sets up a fresh clone with nothing but Node and npm: installs pnpm 10 when it is missing (or
// another major), then the workspace's dependencies. `node scripts/setup.mjs`, or imported by the demo.
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function pnpmVersion() {
  try {
    return execSync('pnpm --version', { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return undefined;
  }
}

/** Installs what is missing; with `quick`, does nothing when the dependencies are already there. */
export function setup({ quick = false } = {}) {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major < 20 || (major === 20 && minor < 19)) {
    console.error(`imbot needs Node >= 20.19; this is ${process.version}.`);
    process.exit(1);
  }
  const found = pnpmVersion();
  if (!found?.startsWith('10.')) {
    console.log(found ? `pnpm ${found} found; installing pnpm 10` : 'pnpm not found; installing pnpm 10');
    execSync('npm install --global pnpm@10', { stdio: 'inherit' });
  }
  if (quick && existsSync(`${root}node_modules/.pnpm`)) return;
  execSync('pnpm install', { stdio: 'inherit', cwd: root });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  setup();
  console.log('\nReady. Run the whole test suite with: pnpm test');
}
