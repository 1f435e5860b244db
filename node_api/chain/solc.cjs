#!/usr/bin/env node
// A solc-compatible executable for py-solc-x, backed by the npm `solc` package
// (the official compiler build). Supports `--version` and `--standard-json`; imports
// resolve against node_modules so `@openzeppelin/...` works offline.
const fs = require('fs');
const path = require('path');
const solc = require('solc');

const args = process.argv.slice(2);
if (args.includes('--version')) {
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
  process.exit(0);
}
if (!args.includes('--standard-json')) {
  process.stderr.write('only --version and --standard-json are supported\n');
  process.exit(2);
}
const roots = [process.cwd(), path.resolve(__dirname, '..', '..'), path.resolve(__dirname, '..', '..', 'node_modules')];
function findImports(p) {
  for (const root of roots) {
    const candidate = path.join(root, p);
    if (fs.existsSync(candidate)) return { contents: fs.readFileSync(candidate, 'utf8') };
    const nm = path.join(root, 'node_modules', p);
    if (fs.existsSync(nm)) return { contents: fs.readFileSync(nm, 'utf8') };
  }
  return { error: `not found: ${p}` };
}
const input = fs.readFileSync(0, 'utf8');
process.stdout.write(solc.compile(input, { import: findImports }));
