// Imports every package (and core's subpaths) by name from ESM, as a user's app does.
import { readFileSync } from 'node:fs';

const names = JSON.parse(readFileSync(new URL('./names.json', import.meta.url), 'utf8'));
for (const [specifier, exported] of Object.entries(names)) {
  const module = await import(specifier);
  for (const name of exported) {
    if (module[name] === undefined) throw new Error(`${specifier} has no export ${name}`);
  }
}
const { TencentIm } = await import('@imbot/core');
const { TencentIm: FromSubpath } = await import('@imbot/core/tencent');
if (TencentIm !== FromSubpath)
  throw new Error('@imbot/core and @imbot/core/tencent export different classes');
console.log(`node ${process.version}: ESM imports ${Object.keys(names).length} entries`);
