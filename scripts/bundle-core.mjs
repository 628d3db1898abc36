/**
 * Bundles `@imbot/core`'s entries after `tsc -b` has built it: each entry point (the root, `/tencent`,
 * `/rongcloud`, `/activity`, `/receive`, `/internal`) becomes one ES module, with the code they share in common
 * chunks (so a class is the same class from every entry). Node resolves and compiles one file per
 * module it loads, and zod alone is a hundred of them (its locales included), so a bot that starts
 * cold (a function answering its first webhook) paid more for the files than for the code. Bundled,
 * with zod imported as a namespace (`import * as z`) so that what core does not use is left out,
 * `import('@imbot/core')` takes about half the time. zod, eventemitter3 and tinyqueue go into the
 * bundle (their licences into `dist/THIRD-PARTY-LICENSES.txt`) and stay dependencies for the types;
 * undici, loaded on the first client, and the optional OpenTelemetry peer stay imports. The `.d.ts`
 * files stay as `tsc` wrote them; source maps point at the sources.
 *
 *   node scripts/bundle-core.mjs
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const core = fileURLToPath(new URL('../packages/core/', import.meta.url));
const pkg = JSON.parse(readFileSync(join(core, 'package.json'), 'utf8'));
const external = ['undici', ...Object.keys(pkg.peerDependencies ?? {})];
const bundled = Object.keys(pkg.dependencies ?? {}).filter((name) => !external.includes(name));

// Chunks are named by their content: those of an earlier build would otherwise stay and be packed.
rmSync(join(core, 'dist', 'chunks'), { recursive: true, force: true });
await build({
  absWorkingDir: core,
  entryPoints: {
    index: 'src/index.ts',
    'tencent/index': 'src/tencent/index.ts',
    'rongcloud/index': 'src/rongcloud/index.ts',
    'activity/index': 'src/activity/index.ts',
    'receive/index': 'src/receive/index.ts',
    internal: 'src/internal.ts',
  },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  sourcemap: true,
  sourcesContent: true,
  chunkNames: 'chunks/[name]-[hash]',
  external,
  logLevel: 'warning',
});

// The licence of every package whose code the bundle carries.
const require = createRequire(join(core, 'package.json'));
const notices = bundled.map((name) => {
  const dir = dirname(require.resolve(`${name}/package.json`));
  const file = readdirSync(dir).find((f) => /^licen[cs]e/i.test(f));
  const { version, license } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const text = file ? readFileSync(join(dir, file), 'utf8').trim() : `${license} licence`;
  return `${name}@${version} (${license})\n\n${text}\n`;
});
writeFileSync(
  join(core, 'dist', 'THIRD-PARTY-LICENSES.txt'),
  `@imbot/core's bundle carries code of these packages:\n\n${notices.join('\n---\n\n')}`,
);
