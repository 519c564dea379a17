import { DataSource, DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../migrations';
import { AppConfig } from '../config/app-config';
import { EmbeddedPostgres, startEmbeddedPostgres } from './embedded-postgres';
import { ENTITIES } from './entities';

export interface OpenedDatabase {
  dataSource: DataSource;
  embedded?: EmbeddedPostgres;
  /** Human description for the start-up log line; never contains a password. */
  description: string;
  close(): Promise<void>;
}

/**
 * Builds the one DataSource used by the API, the worker, the migration CLI and
 * the tests: a real server when DATABASE_URL is set, otherwise embedded
 * PostgreSQL. Schema only through migrations: `synchronize` is always off.
 */
export async function openDatabase(config: AppConfig, options: { runMigrations?: boolean; poolSize?: number } = {}): Promise<OpenedDatabase> {
  let embedded: EmbeddedPostgres | undefined;
  let connection: Partial<DataSourceOptions>;
  let description: string;
  if (config.databaseUrl) {
    connection = { url: config.databaseUrl };
    description = `PostgreSQL at ${redactUrl(config.databaseUrl)}`;
  } else {
    embedded = await startEmbeddedPostgres(config.dataDir);
    connection = { host: embedded.host, port: embedded.port, username: 'postgres', database: 'postgres' };
    description = `embedded PostgreSQL (PGlite) in ${config.dataDir}`;
  }
  const dataSource = new DataSource({
    type: 'postgres',
    ...(connection as object),
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migration',
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: ['error'],
    // Embedded PGlite serves one query at a time; a small pool is enough and
    // every transaction keeps all its queries on its own connection.
    extra: { max: options.poolSize ?? (embedded ? 4 : 20), application_name: 'usage-ledger' },
  } as DataSourceOptions);
  try {
    await dataSource.initialize();
    if (options.runMigrations) await runMigrationsExclusively(dataSource);
  } catch (error) {
    if (dataSource.isInitialized) await dataSource.destroy();
    await embedded?.stop();
    throw error;
  }
  return {
    dataSource,
    embedded,
    description,
    async close() {
      if (dataSource.isInitialized) await dataSource.destroy();
      await embedded?.stop();
    },
  };
}

export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}

/** Any number of processes may start at once: one applies the migrations, the others wait for it. */
export async function runMigrationsExclusively(dataSource: DataSource): Promise<string[]> {
  const lock = dataSource.createQueryRunner();
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await lock.release();
  }
}

/** Arbitrary constant naming the migration lock among advisory locks. */
const MIGRATION_LOCK_KEY = 7_345_001;
