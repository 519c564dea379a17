import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * docs/architecture.md rule 3: SQL lives in the repositories. The service
 * holds decisions and the controller routes; neither runs a statement.
 */
describe('src/almanach layout', () => {
  const dir = __dirname;
  const files = readdirSync(dir).filter((name) => /\.(service|controller)\.ts$/.test(name));

  it('has a service and a controller to check', () => {
    expect(files).toEqual(expect.arrayContaining(['almanach.service.ts', 'almanach.controller.ts']));
  });

  it.each(files)('%s holds no SQL text, query() call or TypeORM repository', (name) => {
    const text = readFileSync(join(dir, name), 'utf8');
    expect(text).not.toMatch(/\.query\s*\(/);
    expect(text).not.toMatch(/getRepository|createQueryBuilder/);
    expect(text).not.toMatch(/\b(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM)\b/);
  });

  it('the service receives typed commands, never unknown', () => {
    const text = readFileSync(join(dir, 'almanach.service.ts'), 'utf8');
    expect(text).not.toMatch(/:\s*unknown\b/);
  });
});
