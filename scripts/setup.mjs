// Sets up a fresh clone with nothing but Node and npm: installs pnpm 10 when it is missing (or
// another major), then the workspace's dependencies.
import { execSync } from 'node:child_process';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  console.error(`imbot needs Node >= 20.19; this is ${process.version}.`);
  process.exit(1);
}

function pnpmVersion() {
  try {
    return execSync('pnpm --version', { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return undefined;
  }
}

const found = pnpmVersion();
if (!found?.startsWith('10.')) {
  console.log(found ? `pnpm ${found} found; installing pnpm 10` : 'pnpm not found; installing pnpm 10');
  execSync('npm install --global pnpm@10', { stdio: 'inherit' });
}
execSync('pnpm install', { stdio: 'inherit' });
console.log('\nReady. Run the whole test suite with: pnpm test');
