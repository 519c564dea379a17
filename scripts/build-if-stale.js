#!/usr/bin/env node
// `npm start` must work on a fresh clone: compile when dist/ is missing or
// older than any source file, otherwise start at once.
const { statSync, readdirSync, existsSync } = require('node:fs');
const { join } = require('node:path');
const { execFileSync } = require('node:child_process');

const root = join(__dirname, '..');
const stamp = join(root, 'dist', 'src', 'main.js');

function newest(dir) {
  let latest = 0;
  if (!existsSync(dir)) return latest;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const time = entry.isDirectory() ? newest(path) : statSync(path).mtimeMs;
    if (time > latest) latest = time;
  }
  return latest;
}

const sources = Math.max(
  newest(join(root, 'src')),
  newest(join(root, 'migrations')),
  newest(join(root, 'bench')),
  statSync(join(root, 'tsconfig.json')).mtimeMs,
  statSync(join(root, 'tsconfig.build.json')).mtimeMs,
);
if (!existsSync(stamp) || statSync(stamp).mtimeMs < sources) {
  process.stdout.write(existsSync(stamp) ? 'building dist/ (sources changed since the last build)\n' : 'building dist/ (first start: compiling the TypeScript sources, about a minute)\n');
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], {
    stdio: 'inherit',
    cwd: root,
  });
}
// tsc copies only what it compiles: the dashboard's page, script and style
// are copied every time (a few small files), so a dist/ built by a bare tsc
// still finds them.
require('./copy-assets.js');
