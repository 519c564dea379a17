import 'reflect-metadata';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * `npm run bench`: runs every bench/*.bench.ts (compiled to dist/bench) in
 * name order, or only those named on the command line
 * (`npm run bench -- almanach`). Each prints `name: value unit` lines.
 */
interface BenchModule {
  run(): Promise<void>;
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const files = readdirSync(__dirname)
    .filter((f) => f.endsWith('.bench.js'))
    .filter((f) => only.length === 0 || only.some((name) => f.startsWith(name)))
    .sort();
  if (files.length === 0) throw new Error(`no bench matches ${only.join(', ')}`);
  for (const file of files) {
    process.stdout.write(`# ${file.replace(/\.bench\.js$/, '')}\n`);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bench = require(join(__dirname, file)) as BenchModule;
    await bench.run();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
