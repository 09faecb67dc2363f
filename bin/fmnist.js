#!/usr/bin/env node
// The `fmnist` command: runs the CLI bundle that `npm install` (prepare) or `npm run build` produces.
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const bundle = join(__dirname, '..', 'out', 'node', 'fmnist.js');
if (!existsSync(bundle)) {
  process.stderr.write(`fmnist: ${bundle} is missing; run "npm run build:node" in ${join(__dirname, '..')} first\n`);
  process.exit(2);
}
require(bundle);
