import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The shape of docs/architecture.md, held by reading the source (no app):
 * - SQL lives in repositories: no `.query(` and no SQL text in any
 *   `*.service.ts` or `*.controller.ts`;
 * - infrastructure (src/core, src/http, src/database, src/queue, src/config,
 *   src/logging) imports no feature folder, directly or through another file;
 *   a feature is every other folder of src/, today's and tomorrow's;
 * - only the entry points and the test and bench boot code import src/runtime.ts.
 */

const ROOT = resolve(__dirname, '../..');
const SRC = join(ROOT, 'src');
const INFRASTRUCTURE = ['core', 'http', 'database', 'queue', 'config', 'logging'];
const RUNTIME = join(SRC, 'runtime.ts');
const RUNTIME_IMPORTERS = ['src/main.ts', 'src/worker.ts', 'src/migration-cli.ts', 'src/runtime.ts', 'bench/support.ts'];
const RUNTIME_IMPORTER_FOLDERS = ['test/support/'];

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' ? [] : filesUnder(path);
    return /\.(ts|mts|cts)$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

const rel = (path: string) => relative(ROOT, path);

/**
 * Splits TypeScript source into its code (strings and comments blanked) and
 * the text of its string literals (template literals with `${…}` as `?`).
 */
function scan(source: string): { code: string; literals: string[] } {
  const literals: string[] = [];
  let code = '';
  let i = 0;
  const braces: number[] = []; // for each open template `${`, the brace depth at which it closes
  let depth = 0;
  let lastSignificant = '';

  const readQuoted = (quote: string) => {
    let text = '';
    i++;
    while (i < source.length && source[i] !== quote) {
      if (source[i] === '\\') {
        text += source[i + 1] ?? '';
        i += 2;
        continue;
      }
      if (source[i] === '\n') break;
      text += source[i++];
    }
    i++;
    return text;
  };

  // Reads a template from its opening backtick or from a closing `}` of `${…}`; returns true when it ended.
  const readTemplate = (): boolean => {
    i++;
    let text = '';
    while (i < source.length) {
      const c = source[i];
      if (c === '\\') {
        text += source[i + 1] ?? '';
        i += 2;
      } else if (c === '`') {
        i++;
        pushTemplatePart(text, true);
        return true;
      } else if (c === '$' && source[i + 1] === '{') {
        i += 2;
        pushTemplatePart(text, false);
        braces.push(depth);
        depth++;
        return false;
      } else {
        text += c;
        i++;
      }
    }
    pushTemplatePart(text, true);
    return true;
  };
  let template: string[] = [];
  const pushTemplatePart = (text: string, end: boolean) => {
    template.push(text);
    if (end) {
      literals.push(template.join('?'));
      template = [];
    }
  };
  const templateStack: string[][] = [];

  while (i < source.length) {
    const c = source[i];
    const next = source[i + 1];
    if (c === '/' && next === '/') {
      while (i < source.length && source[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      i = end < 0 ? source.length : end + 2;
      code += ' ';
      continue;
    }
    if (c === '"' || c === "'") {
      literals.push(readQuoted(c));
      code += '""';
      lastSignificant = '"';
      continue;
    }
    if (c === '`') {
      templateStack.push(template);
      template = [];
      if (readTemplate()) template = templateStack.pop() ?? [];
      code += '""';
      lastSignificant = '"';
      continue;
    }
    if (c === '/' && /^$|[(,=:[!&|?{};+\-*%<>~^]/.test(lastSignificant)) {
      // A regular expression literal: skip it (a quote inside is not a string).
      i++;
      let inClass = false;
      while (i < source.length && source[i] !== '\n') {
        if (source[i] === '\\') i += 2;
        else if (source[i] === '[') (inClass = true), i++;
        else if (source[i] === ']') (inClass = false), i++;
        else if (source[i] === '/' && !inClass) break;
        else i++;
      }
      i++;
      while (/[a-z]/.test(source[i] ?? '')) i++;
      code += '/re/';
      lastSignificant = '/';
      continue;
    }
    if (c === '{') depth++;
    if (c === '}') {
      if (braces.length && braces[braces.length - 1] === depth - 1) {
        braces.pop();
        depth--;
        if (readTemplate()) template = templateStack.pop() ?? [];
        continue;
      }
      depth--;
    }
    code += c;
    if (!/\s/.test(c)) lastSignificant = c;
    i++;
  }
  return { code, literals };
}

/** SQL as this codebase writes it (keywords in capitals), so that English messages ("cannot delete from…") do not count. */
const SQL_PATTERNS: RegExp[] = [
  /^\s*(SELECT|INSERT|UPDATE|DELETE|WITH|TRUNCATE|ALTER|CREATE|DROP|LOCK)\s/,
  /\bSELECT\b[\s\S]*?\bFROM\b/,
  /\bINSERT\s+INTO\b/,
  /\bUPDATE\s+\S+\s+SET\b/,
  /\bDELETE\s+FROM\b/,
];

/** Relative specifiers of every import, export … from, require() and import() in a file. */
function importsOf(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  const specifiers: string[] = [];
  const pattern = /\b(?:import|export)\b[^;'"`]*?\bfrom\s*(['"])([^'"]+)\1|\bimport\s*(['"])([^'"]+)\3|\b(?:require|import)\s*\(\s*(['"])([^'"]+)\5\s*\)/g;
  for (const match of source.matchAll(pattern)) specifiers.push(match[2] ?? match[4] ?? match[6]);
  return specifiers;
}

function resolveImport(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const base = resolve(dirname(from), specifier);
  for (const candidate of [base, `${base}.ts`, join(base, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

function topFolder(file: string): string | undefined {
  const path = relative(SRC, file);
  if (path.startsWith('..')) return undefined;
  const parts = path.split(/[\\/]/);
  return parts.length > 1 ? parts[0] : undefined;
}

describe('architecture (docs/architecture.md)', () => {
  const srcFiles = filesUnder(SRC);
  const features = readdirSync(SRC).filter((name) => statSync(join(SRC, name)).isDirectory() && !INFRASTRUCTURE.includes(name));

  it('reads the tree it checks', () => {
    expect(srcFiles.length).toBeGreaterThan(50);
    expect(features).toEqual(expect.arrayContaining(['almanach', 'usage', 'quotas', 'allocations', 'auth', 'health']));
    for (const folder of INFRASTRUCTURE) expect(existsSync(join(SRC, folder))).toBe(true);
  });

  it('finds SQL text and .query( where they are (the scanner works)', () => {
    const sample = scan(
      "const a = 'x'; // SELECT 1 FROM t\n/* DELETE FROM t */ const b = `SELECT id FROM ${table} WHERE x = ${`y`}`; const r = /'/; db.query(\"UPDATE t SET a = 1\");",
    );
    expect(sample.literals).toEqual(['x', 'y', 'SELECT id FROM ? WHERE x = ?', 'UPDATE t SET a = 1']);
    expect(sample.code).toContain('.query(');
    expect(sample.code).not.toContain('DELETE');
    expect(sample.literals.filter((text) => SQL_PATTERNS.some((p) => p.test(text)))).toHaveLength(2);
    expect(['cannot delete from a closed allocation', 'select one from the list', 'Update the settings'].filter((text) => SQL_PATTERNS.some((p) => p.test(text)))).toEqual([]);
  });

  it('keeps SQL out of services and controllers: no .query( and no SQL in a string', () => {
    const offenders: string[] = [];
    for (const file of srcFiles.filter((f) => /\.(service|controller)\.ts$/.test(f))) {
      const { code, literals } = scan(readFileSync(file, 'utf8'));
      const calls = code.match(/\.query\s*\(/g)?.length ?? 0;
      if (calls) offenders.push(`${rel(file)}: ${calls} .query( call(s)`);
      const sql = literals.filter((text) => SQL_PATTERNS.some((p) => p.test(text)));
      if (sql.length) offenders.push(`${rel(file)}: ${sql.length} SQL string(s), e.g. ${JSON.stringify(sql[0].replace(/\s+/g, ' ').slice(0, 60))}`);
    }
    expect(offenders).toEqual([]);
  });

  it('infrastructure imports no feature folder, directly or through another file of src/', () => {
    const graph = new Map<string, string[]>();
    for (const file of srcFiles) {
      graph.set(
        file,
        importsOf(file)
          .map((specifier) => resolveImport(file, specifier))
          .filter((target): target is string => target !== undefined && target.startsWith(SRC)),
      );
    }
    // The graph sees the composition root's imports of every feature.
    expect(graph.get(join(SRC, 'composition.ts'))).toEqual(expect.arrayContaining(features.filter((f) => existsSync(join(SRC, f, `${f}.feature.ts`))).map((f) => join(SRC, f, `${f}.feature.ts`))));
    const offenders: string[] = [];
    for (const file of srcFiles.filter((f) => INFRASTRUCTURE.includes(topFolder(f) ?? ''))) {
      // Breadth-first through src/, stopping at the first feature file of each path.
      const seen = new Map<string, string[]>([[file, [file]]]);
      const queue = [file];
      while (queue.length) {
        const current = queue.shift()!;
        for (const target of graph.get(current) ?? []) {
          if (seen.has(target)) continue;
          const chain = [...seen.get(current)!, target];
          seen.set(target, chain);
          if (features.includes(topFolder(target) ?? '')) offenders.push(chain.map(rel).join(' → '));
          else queue.push(target);
        }
      }
    }
    expect(offenders).toEqual([]);
  });

  it('the worker and the collector load no controller, HTTP paging or OpenAPI code, directly or through another file', () => {
    const closure = (entry: string) => {
      // Breadth-first over the relative imports of src/.
      const seen = new Set<string>([entry]);
      const order = [entry];
      for (let i = 0; i < order.length; i++) {
        for (const specifier of importsOf(order[i])) {
          const target = resolveImport(order[i], specifier);
          if (target && target.startsWith(SRC) && !seen.has(target)) {
            seen.add(target);
            order.push(target);
          }
        }
      }
      return order;
    };
    const forbidden = (file: string) => /\.controller\.ts$|paging\.ts$|[\\/]http[\\/](openapi|openapi-document|body-parsers|input-guard|client-errors)\.ts$|app\.(factory|module)\.ts$/.test(file);
    for (const entry of ['worker.ts', 'collector.ts']) {
      const files = closure(join(SRC, entry));
      // The walk reaches the feature code the process runs.
      expect(files.length).toBeGreaterThan(20);
      expect(files.filter(forbidden).map(rel)).toEqual([]);
    }
  });

  it('only the entry points and the test and bench boot code import src/runtime.ts', () => {
    const files = ['src', 'test', 'bench', 'migrations', 'scripts'].flatMap((dir) => filesUnder(join(ROOT, dir)));
    const importers = files
      .filter((file) => importsOf(file).some((specifier) => resolveImport(file, specifier) === RUNTIME))
      .map(rel)
      .filter((file) => !RUNTIME_IMPORTERS.includes(file) && !RUNTIME_IMPORTER_FOLDERS.some((folder) => file.startsWith(folder)));
    expect(importers).toEqual([]);
    // The check sees the importers it allows.
    expect(files.filter((file) => importsOf(file).some((s) => resolveImport(file, s) === RUNTIME)).map(rel)).toEqual(
      expect.arrayContaining(['src/main.ts', 'src/worker.ts', 'test/support/test-app.ts']),
    );
  });
});
