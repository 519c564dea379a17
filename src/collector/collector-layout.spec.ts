import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The module's shape (docs/architecture.md): SQL only in the repository, Almanach reached through one adapter. */
describe('src/collector layout', () => {
  const dir = __dirname;
  const sources = readdirSync(dir).filter((name) => name.endsWith('.ts') && !name.endsWith('.spec.ts'));

  it('has SQL only in collector.repository.ts', () => {
    const withSql = sources.filter((name) => /\.query\(|\b(SELECT|INSERT INTO|DELETE FROM|UPDATE \w+ SET)\b/.test(readFileSync(join(dir, name), 'utf8')));
    expect(withSql).toEqual(['collector.repository.ts']);
  });

  it('calls the Almanach service and repository from almanach-writer.ts only', () => {
    const callers = sources.filter((name) => /from '\.\.\/almanach\/almanach\.(service|repository)'/.test(readFileSync(join(dir, name), 'utf8')));
    expect(callers.sort()).toEqual(['almanach-writer.ts']);
  });
});
