import { APP_START_TIMEOUT_MS, startTestApp, TestApp } from '../support/test-app';

/**
 * Entities and migrations cannot drift (issue 8, item 7): on a database
 * migrated by migrations/, TypeORM's schema builder, the one behind
 * `npm run migration:generate`, finds nothing to change for the entities of
 * src/composition.ts. When it fails, the message lists the SQL the generator
 * would write: add a migration (or fix the entity) until it is empty.
 */
describe('schema drift between entities and migrations', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  }, APP_START_TIMEOUT_MS);

  afterAll(async () => {
    await t?.close();
  });

  it('the migrations are applied, and the entities are the ones of the composition root', async () => {
    const pending = await t.runtime.dataSource.showMigrations();
    expect(pending).toBe(false);
    expect(t.runtime.dataSource.entityMetadatas.length).toBeGreaterThan(5);
  });

  it('the migration generator finds nothing to change', async () => {
    const sql = await t.runtime.dataSource.driver.createSchemaBuilder().log();
    const drift = sql.upQueries.map((query) => query.query + (query.parameters?.length ? ` -- ${JSON.stringify(query.parameters)}` : ''));
    if (drift.length > 0) {
      throw new Error(
        `entities and migrations disagree: the migration generator would run\n${drift.map((q) => `  ${q};`).join('\n')}\n` +
          'Add a migration (npm run migration:generate -- <Name>) or fix the entity.',
      );
    }
    expect(drift).toEqual([]);
  });
});
