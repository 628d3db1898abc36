// `npm run demo` / `pnpm demo`: sets up a fresh clone if needed, then runs the demo bot with the
// emulator and its web console (examples/express-streaming-bot). Arguments pass through:
// `pnpm demo --once "hello"`, `pnpm demo --cloud rongcloud`.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setup } from './setup.mjs';

setup({ quick: true });
const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2).filter((arg) => arg !== '--');
const child = spawn(
  process.execPath,
  ['--conditions=@imbot/source', '--import', 'tsx', 'examples/express-streaming-bot/src/main.ts', ...args],
  { cwd: root, stdio: 'inherit' },
);
// Ctrl-C reaches the child too (same process group); a SIGTERM sent to this process alone is passed
// on. Either way, wait for the child to finish its streams.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => child.kill('SIGTERM'));
// npm runs this under `sh -c`, so a SIGTERM sent to npm's PID ends that shell and not this process,
// which would go on holding the console's port: once the shell is gone (this process has another
// parent), stop as on SIGTERM.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) child.kill('SIGTERM');
}, 250).unref();
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
