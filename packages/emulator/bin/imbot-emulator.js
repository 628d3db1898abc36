#!/usr/bin/env node
// The `imbot-emulator` command. It is a file of its own, outside dist/, so that package managers can
// link the command before the package is built (a fresh clone of the monorepo); it runs the build.
import { existsSync } from 'node:fs';

const built = new URL('../dist/bin.js', import.meta.url);
if (!existsSync(built)) {
  console.error('imbot-emulator: this copy is not built yet; run `npm run build` at the root of the clone.');
  process.exit(1);
}
await import(built.href);
