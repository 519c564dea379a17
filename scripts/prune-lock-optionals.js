#!/usr/bin/env node
// The npm registry reachable from this project's machines lacks the matching
// versions of some other platforms' optional packages (@swc/core-darwin-*
// 1.16.22, ...), so `npm install` writes a lock that names them without
// entries, and `npm ci` then refuses the lock. This drops the optional edges that point at nothing; every
// package that is present keeps its version and integrity.
// Run after any `npm install` that changes package-lock.json.
const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const file = join(__dirname, '..', 'package-lock.json');
const lock = JSON.parse(readFileSync(file, 'utf8'));
const packages = lock.packages;

function resolves(from, name) {
  // node_modules lookup: from/node_modules/name, then each ancestor's.
  let dir = from;
  for (;;) {
    const candidate = dir ? `${dir}/node_modules/${name}` : `node_modules/${name}`;
    if (packages[candidate]) return true;
    if (!dir) return false;
    const index = dir.lastIndexOf('/node_modules/');
    dir = index === -1 ? '' : dir.slice(0, index);
  }
}

let dropped = 0;
for (const [path, entry] of Object.entries(packages)) {
  const optional = entry.optionalDependencies;
  if (!optional) continue;
  for (const name of Object.keys(optional)) {
    if (!resolves(path, name)) {
      delete optional[name];
      dropped++;
    }
  }
  if (Object.keys(optional).length === 0) delete entry.optionalDependencies;
}
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
process.stdout.write(`dropped ${dropped} optional dependencies that no registry here serves\n`);
