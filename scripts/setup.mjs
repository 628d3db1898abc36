// Sets up a fresh clone with nothing but Node and npm, as any user: installs the workspace's
// dependencies with pnpm 10. A pnpm 10 on the PATH is used as it is; otherwise `npx pnpm@10` fetches
// pnpm into npm's own cache (no global install, no root needed), and the install puts the
// workspace's own pnpm in node_modules/.bin, which every `npm run`/`npm test` finds from then on.
// `npm run setup`, or imported by the demo.
import { execFileSync, execSync } from 'node:child_process';
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
  if (quick && existsSync(`${root}node_modules/.pnpm`)) return;
  const found = pnpmVersion();
  const [command, args] = found?.startsWith('10.')
    ? ['pnpm', ['install']]
    : ['npx', ['--yes', 'pnpm@10', 'install']];
  console.log(
    `Installing the workspace's dependencies with ${found?.startsWith('10.') ? `pnpm ${found}` : 'pnpm 10 through npx (kept in npm’s cache, nothing installed globally)'}…`,
  );
  try {
    execFileSync(command, args, { stdio: 'inherit', cwd: root, shell: process.platform === 'win32' });
  } catch {
    console.error(`setup: \`${command} ${args.join(' ')}\` failed (its output is above).`);
    process.exit(1);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  setup();
  console.log('\nReady. Run the whole test suite with: npm test');
}
