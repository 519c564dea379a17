import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { AllocationQuotaLinkModule } from './quota-link/quota-link.module';

/*
 * The shape of the allocations module (docs/architecture.md, issue 8):
 * SQL only in repositories, and a worker graph without HTTP.
 */

const ROOT = resolve(__dirname, '..', '..');
const HERE = __dirname;

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** Relative imports of a TypeScript file, resolved to files; package imports as their names. */
function importsOf(file: string): { files: string[]; packages: string[] } {
  const text = readFileSync(file, 'utf8');
  const files: string[] = [];
  const packages: string[] = [];
  for (const match of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'/g)) {
    const spec = match[1];
    if (!spec.startsWith('.')) {
      packages.push(spec);
      continue;
    }
    const base = resolve(dirname(file), spec);
    const found = [`${base}.ts`, join(base, 'index.ts')].find((p) => existsSync(p));
    if (found) files.push(found);
  }
  return { files, packages };
}

function graphFrom(entry: string): { files: Set<string> } {
  const files = new Set<string>();
  const queue = [entry];
  while (queue.length) {
    const file = queue.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    queue.push(...importsOf(file).files);
  }
  return { files };
}

describe('allocations module shape', () => {
  const sources = filesUnder(HERE).filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'));

  it('keeps SQL out of services and controllers', () => {
    const offenders = sources
      .filter((f) => /\.(service|controller)\.ts$/.test(f))
      .filter((f) => /\.query\(|\b(SELECT|INSERT INTO|UPDATE\s+"|DELETE FROM)\b/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(ROOT, f));
    expect(offenders).toEqual([]);
  });

  it('has no sql.ts helper of its own: query results go through src/database/query-result.ts', () => {
    expect(sources.filter((f) => /\.ts$/.test(f) && readFileSync(f, 'utf8').includes('updateReturning')).map((f) => relative(ROOT, f))).toEqual([]);
  });

  it('gives the worker a quota-link module graph without controllers', () => {
    const seen = new Set<Function>();
    const controllers: string[] = [];
    const walk = (module: Function) => {
      if (seen.has(module)) return;
      seen.add(module);
      controllers.push(...((Reflect.getMetadata('controllers', module) ?? []) as Function[]).map((c) => c.name));
      for (const imported of (Reflect.getMetadata('imports', module) ?? []) as Function[]) walk(imported);
    };
    walk(AllocationQuotaLinkModule);
    expect(controllers).toEqual([]);
    expect(seen.size).toBeGreaterThan(1);
  });

  it('gives the worker quota-link files without allocation HTTP code (controllers, paging, body pipes) or Fastify', () => {
    const { files } = graphFrom(join(HERE, 'quota-link', 'quota-link.module.ts'));
    const own = [...files].filter((f) => f.startsWith(HERE));
    const http = own.filter((f) => /\.controller\.ts$|shared[/\\](paging|input|params|openapi|principal)\.ts$/.test(f)).map((f) => relative(ROOT, f));
    expect(http).toEqual([]);
    expect(own.filter((f) => importsOf(f).packages.some((p) => /fastify|@nestjs\/swagger/.test(p))).map((f) => relative(ROOT, f))).toEqual([]);
    // It does reach the job's own pieces.
    expect(own.map((f) => relative(HERE, f))).toEqual(expect.arrayContaining([join('quota-link', 'quota-link.processor.ts'), join('requests', 'embedded-quotas.ts')]));
  });

  it('is imported into the worker through the processing module only', () => {
    const worker = readFileSync(join(ROOT, 'src', 'worker.module.ts'), 'utf8');
    const allocationImports = [...worker.matchAll(/from '\.\/allocations\/([^']+)'/g)].map((m) => m[1]);
    expect(allocationImports).toEqual(['quota-link/quota-link.module']);
  });
});
