import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** docs/architecture.md rule 3 for this module: SQL lives in its repositories only. */
describe('src/usage layout', () => {
  const files = readdirSync(__dirname).filter((f) => /\.(service|controller)\.ts$/.test(f));
  const SQL = /\.query\(|\b(SELECT|INSERT INTO|UPDATE\s+\w+\s+SET|DELETE FROM)\b/;

  it('has services and a controller to check', () => {
    expect(files).toEqual(expect.arrayContaining(['usage.service.ts', 'usage-loader.service.ts', 'usage-sweeper.service.ts', 'usage.controller.ts']));
  });

  it.each(files)('%s holds no SQL', (file) => {
    expect(readFileSync(join(__dirname, file), 'utf8')).not.toMatch(SQL);
  });

  it('reads query results only through src/database/query-result.ts', () => {
    for (const file of readdirSync(__dirname).filter((f) => f.endsWith('.repository.ts'))) {
      expect(readFileSync(join(__dirname, file), 'utf8')).not.toMatch(/\.query\(|Array\.isArray\(\w+\[0\]\)/);
    }
  });
});
