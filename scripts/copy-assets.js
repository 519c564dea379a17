#!/usr/bin/env node
// tsc copies only what it compiles: the files of every `assets/` folder under
// src/ (the dashboard's page, script and style) are copied next to the
// compiled code in dist/src/, where the services look for them (`npm start`);
// tests read them in place from src/. Run by `npm run build` and by
// scripts/build-if-stale.js after tsc.
const { cpSync, existsSync, readdirSync, rmSync } = require('node:fs');
const { join, relative } = require('node:path');

const root = join(__dirname, '..');
const src = join(root, 'src');

function assetFolders(dir) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const path = join(dir, entry.name);
    if (entry.name === 'assets') found.push(path);
    else found.push(...assetFolders(path));
  }
  return found;
}

for (const folder of assetFolders(src)) {
  const target = join(root, 'dist', 'src', relative(src, folder));
  // A file removed from src/ must not linger in dist/.
  if (existsSync(target)) rmSync(target, { recursive: true, force: true });
  cpSync(folder, target, { recursive: true });
}
