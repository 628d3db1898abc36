// require()s every package (and core's subpaths) from CommonJS: Node >= 20.19 loads ES modules
// without top-level await from require().
const names = require('./names.json');

for (const [specifier, exported] of Object.entries(names)) {
  const module = require(specifier);
  for (const name of exported) {
    if (module[name] === undefined) throw new Error(`require('${specifier}') has no export ${name}`);
  }
}
console.log(`node ${process.version}: require() loads ${Object.keys(names).length} entries`);
