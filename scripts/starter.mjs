/**
 * `npm run starter -- DIR`: a runnable copy of `examples/starter` in DIR, made from this checkout,
 * for as long as the `@imbot/*` packages are not on a registry. It packs the packages the starter
 * depends on (each one's `prepack` builds it) into `DIR/vendor/`, points the copy's dependencies at
 * those tarballs, installs with npm, and prints the next two commands. Every other dependency comes
 * from the npm registry as usual.
 *
 *   npm run starter -- ../my-bot
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const usage = 'usage: npm run starter -- DIR   (DIR: a folder that does not exist yet, or an empty one)';

/** One line on stderr and the exit code, as every imbot command fails. */
function fail(message, code) {
  process.stderr.write(`starter: ${message}\n`);
  process.exit(code);
}

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}
if (args.length !== 1 || args[0].startsWith('-')) fail(`give one folder (${usage})`, 2);
// npm runs scripts in the repository's root; DIR is where the user typed the command.
const here = process.env.INIT_CWD ?? process.cwd();
const dir = resolve(here, args[0]);
if (existsSync(dir) && readdirSync(dir).length > 0) fail(`${args[0]} is not empty: name a new folder`, 2);
// Checked before anything is copied, so that the same command works once the checkout is set up.
const pnpm = join(root, 'node_modules', '.bin', 'pnpm');
if (!existsSync(pnpm)) fail('this checkout is not set up yet: run `npm run setup` first', 1);

const starter = join(root, 'examples', 'starter');
const manifest = JSON.parse(readFileSync(join(starter, 'package.json'), 'utf8'));
const sections = ['dependencies', 'devDependencies'];
const ours = sections.flatMap((section) =>
  Object.keys(manifest[section] ?? {}).filter((name) => name.startsWith('@imbot/')),
);

mkdirSync(dir, { recursive: true });
cpSync(starter, dir, { recursive: true, filter: (path) => !path.includes('node_modules') });
const vendor = join(dir, 'vendor');
mkdirSync(vendor);

const quiet = {
  stdio: ['ignore', 'ignore', 'inherit'],
  env: { ...process.env, npm_config_update_notifier: 'false' },
};
for (const name of ours) {
  process.stdout.write(`starter: packing ${name}\n`);
  const folder = join(root, 'packages', name.slice('@imbot/'.length));
  execFileSync(pnpm, ['pack', '--pack-destination', vendor], { ...quiet, cwd: folder });
}

// The copy's @imbot/* dependencies point at the tarballs; the rest stays as the starter has it.
const tarballs = readdirSync(vendor);
for (const section of sections) {
  for (const name of Object.keys(manifest[section] ?? {})) {
    if (!name.startsWith('@imbot/')) continue;
    const file = tarballs.find((t) => t.startsWith(`${name.slice(1).replace('/', '-')}-`));
    if (!file) fail(`packing ${name} made no tarball`, 1);
    manifest[section][name] = `file:vendor/${file}`;
  }
}
writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);

process.stdout.write('starter: npm install\n');
execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { ...quiet, cwd: dir });

const where = relative(here, dir) || '.';
process.stdout.write(`
Your bot is in ${where}. Next:
  cd ${where}
  npm start   # the bot on the local emulator: open the console URL it prints
  npm test    # a user says hello, the streamed answer arrives
`);
