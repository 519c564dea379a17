import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ENTITIES } from './composition';
import { AppConfig } from './config/app-config';
import { openDatabase, runMigrationsExclusively } from './database/data-source';

/**
 * `npm run migration:run` and `npm run migration:generate -- <Name>`, on the
 * same database the service would use (real server or embedded), so the
 * embedded default needs no separate tooling. `generate` writes the SQL that
 * would bring the schema in line with the entities into migrations/ and adds
 * the class to migrations/index.ts; read it and name its indexes before
 * committing.
 */
async function main(): Promise<void> {
  const [command, arg] = process.argv.slice(2);
  const config = AppConfig.fromEnv();
  const database = await openDatabase(config, { entities: ENTITIES, runMigrations: false, poolSize: 2 });
  try {
    if (command === 'run') {
      const applied = await runMigrationsExclusively(database.dataSource, database.embedded !== undefined);
      process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'schema is up to date\n');
    } else if (command === 'revert') {
      await database.dataSource.undoLastMigration({ transaction: 'each' });
      process.stdout.write('reverted the last migration\n');
    } else if (command === 'generate') {
      if (!arg) throw new Error('usage: npm run migration:generate -- <Name>');
      await runMigrationsExclusively(database.dataSource, database.embedded !== undefined);
      const sql = await database.dataSource.driver.createSchemaBuilder().log();
      if (sql.upQueries.length === 0) {
        process.stdout.write('no changes: the entities match the migrations\n');
        return;
      }
      const name = basename(arg).replace(/[^A-Za-z0-9]/g, '');
      const timestamp = Date.now();
      const className = `${name}${timestamp}`;
      const root = join(__dirname, '..', '..');
      const file = join(root, 'migrations', `${timestamp}-${name}.ts`);
      const line = (q: { query: string; parameters?: unknown[] }) =>
        `    await queryRunner.query(\`${q.query.replace(/`/g, '\\`')}\`${q.parameters?.length ? `, ${JSON.stringify(q.parameters)}` : ''});`;
      writeFileSync(
        file,
        `import { MigrationInterface, QueryRunner } from 'typeorm';\n\n` +
          `export class ${className} implements MigrationInterface {\n  name = '${className}';\n\n` +
          `  public async up(queryRunner: QueryRunner): Promise<void> {\n${sql.upQueries.map(line).join('\n')}\n  }\n\n` +
          `  public async down(queryRunner: QueryRunner): Promise<void> {\n${sql.downQueries.reverse().map(line).join('\n')}\n  }\n}\n`,
      );
      const index = join(root, 'migrations', 'index.ts');
      const text = readFileSync(index, 'utf8')
        .replace(/(\n\/\*\*)/, `import { ${className} } from './${timestamp}-${name}';\n$1`)
        .replace(/export const MIGRATIONS = \[([^\]]*)\];/, (_m, list: string) => `export const MIGRATIONS = [${list.trim()}, ${className}];`);
      writeFileSync(index, text);
      process.stdout.write(`wrote ${file} and added it to migrations/index.ts\n`);
    } else {
      throw new Error('usage: migration-cli run | revert | generate <Name>');
    }
  } finally {
    await database.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
