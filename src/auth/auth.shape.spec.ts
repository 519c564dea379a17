import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// docs/architecture.md, "The shape of a module": SQL and TypeORM repository
// calls live in auth.repository.ts; the service holds decisions, the
// controller routes.
describe('src/auth shape', () => {
  it.each(['auth.service.ts', 'admin.controller.ts', 'access.guard.ts'])('%s holds no SQL and no database access', (file) => {
    const text = readFileSync(join(__dirname, file), 'utf8');
    expect(text).not.toMatch(/\b(getRepository|createQueryBuilder|DataSource|EntityManager)\b|\.query\(|\b(SELECT|INSERT|UPDATE|DELETE)\s/);
  });
});
