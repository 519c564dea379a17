import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The service's release string, from the package.json above this file (src/ or dist/src/). */
function readVersion(): string {
  let dir = __dirname;
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'usage-ledger' && pkg.version) return pkg.version;
    }
    const parent = dirname(dir);
    if (parent === dir) return '0.0.0';
    dir = parent;
  }
}

export const SERVICE_VERSION = readVersion();
