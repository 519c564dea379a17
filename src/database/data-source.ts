import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Logger as PinoLogger } from 'pino';
import { DataSource, DataSourceOptions, MigrationExecutor } from 'typeorm';
import { MIGRATIONS } from '../../migrations';
import { AppConfig } from '../config/app-config';
import { EmbeddedPostgres, startEmbeddedPostgres } from './embedded-postgres';
import { PinoTypeOrmLogger } from './typeorm-logger';

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
export interface OpenDatabaseOptions {
  /** The entity classes of every feature (the composition root's list). */
  entities: Function[];
  runMigrations?: boolean;
  /** Connections to a PostgreSQL server; DATABASE_POOL_SIZE when not given (embedded PostgreSQL always has one). */
  poolSize?: number;
  /** Where TypeORM's own lines go (failed queries, migrations); without one, nowhere. */
  log?: PinoLogger;
}

export async function openDatabase(config: AppConfig, options: OpenDatabaseOptions): Promise<OpenedDatabase> {
  let embedded: EmbeddedPostgres | undefined;
  let connection: Partial<DataSourceOptions>;
  let description: string;
  const poolSize = options.poolSize ?? config.databasePoolSize;
  if (config.databaseUrl) {
    connection = { url: config.databaseUrl };
    description = `PostgreSQL at ${redactUrl(config.databaseUrl)}, at most ${poolSize} connections`;
  } else {
    // A first start creates the database files and then the whole schema:
    // seconds of silence otherwise (the migration lines follow).
    if (config.dataDir !== 'memory://' && !existsSync(join(config.dataDir, 'pglite'))) {
      options.log?.info({ dataDir: config.dataDir }, `database: first start in ${config.dataDir}: creating the embedded PostgreSQL database`);
    }
    embedded = await startEmbeddedPostgres(config.dataDir);
    connection = { host: embedded.host, port: embedded.port, username: 'postgres', database: 'postgres' };
    description = `embedded PostgreSQL (PGlite) in ${config.dataDir}`;
  }
  const dataSource = new DataSource({
    type: 'postgres',
    ...(connection as object),
    entities: options.entities,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migration',
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: options.log ? ['error', 'warn', 'migration'] : false,
    ...(options.log ? { logger: new PinoTypeOrmLogger(options.log) } : {}),
    // Embedded PGlite is one database session behind the socket: with two
    // client connections, pglite-socket 0.2 interleaves their extended-protocol
    // messages (Parse/Bind/Execute of one request between those of another) and
    // requests hang or get the wrong rows. One connection keeps every message
    // of a query together; PGlite runs one query at a time anyway.
    extra: { max: embedded ? 1 : poolSize, application_name: 'usage-ledger' },
  } as DataSourceOptions);
  try {
    await dataSource.initialize();
    keepPoolHealthy(dataSource);
    if (embedded) forgetEarlierStatements(dataSource);
    if (options.runMigrations) await runMigrationsExclusively(dataSource, embedded !== undefined, options.log);
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
      const pool = poolOf(dataSource);
      if (dataSource.isInitialized) await dataSource.destroy();
      failWaitingConnects(pool);
      await embedded?.stop();
    },
  };
}

/** The parts of node-postgres's pool the hooks below touch (pg-pool 3). */
interface Pool {
  on(event: 'connect', listener: (client: PooledClient) => void): void;
  _clients?: PooledClient[];
  _pendingQueue?: { callback(error: Error): void }[];
}

function poolOf(dataSource: DataSource): Pool | undefined {
  return (dataSource.driver as unknown as { master?: Pool }).master;
}

/**
 * pg-pool's end() waits for the clients in use but never answers the requests
 * still queued for a client: their queries would wait for ever (with embedded
 * PGlite's single connection, a sweep queued behind a request when the
 * database was closed hung the process's shutdown). They get an error.
 */
function failWaitingConnects(pool: Pool | undefined): void {
  for (const waiting of pool?._pendingQueue?.splice(0) ?? []) waiting.callback(new Error('the database connection pool is closed'));
}

/** The parts of a node-postgres client the pool hooks below touch. */
interface PooledClient {
  on(event: 'error', listener: (error: Error) => void): unknown;
  query(text: string): Promise<unknown>;
  connection?: { on(event: 'errorMessage', listener: (message: { severity?: string }) => void): unknown };
  /** node-postgres sets it false once the connection is broken; the pool then drops the client on release. */
  _queryable?: boolean;
}

/**
 * Pool behaviour when connections are cut (`pg_terminate_backend`, a server
 * restart, a failover), so that the pool recovers by itself:
 *
 * - A cut while a connection is being opened can deliver its FATAL message
 *   in the same read as the end of the handshake: node-postgres then emits
 *   `error` on a client the pool has just handed out and TypeORM has not yet
 *   put its listener on, and an `error` event without a listener ends the
 *   process. Every client gets a listener of its own from birth; the pool and
 *   TypeORM still see the error and drop the client.
 * - A FATAL error answering a query (57P01 and the like) goes to that query,
 *   and the client would return to the pool looking healthy until the socket
 *   closes a moment later; the next request could pick it and fail too. It is
 *   marked broken at once, so the pool drops it when it is released.
 *
 * The request that was cut answers 503 (src/http/connection-loss.ts).
 */
function keepPoolHealthy(dataSource: DataSource): void {
  const pool = poolOf(dataSource);
  const guard = (client: PooledClient) => {
    client.on('error', () => undefined);
    client.connection?.on('errorMessage', (message) => {
      if (message.severity === 'FATAL') client._queryable = false;
    });
  };
  pool?.on('connect', guard);
  // TypeORM's initialize() has already opened a client (its version check),
  // which stays in the pool: it needs the same guard, or a FATAL on it
  // returns it to the pool looking healthy.
  for (const client of pool?._clients ?? []) guard(client);
}

/**
 * Embedded PGlite is one database session behind its socket: a connection
 * the pool opens again (after a FATAL error, a socket error or the idle
 * timeout) finds the prepared statements of the one it replaces
 * (src/database/prepared.ts), which its driver does not know, and preparing
 * one of them again fails with 42P05 "already exists". Each new connection
 * therefore starts by closing them; its driver knows none yet, so nothing is
 * lost but the plans. A real server gives every connection a session of its
 * own.
 */
function forgetEarlierStatements(dataSource: DataSource): void {
  poolOf(dataSource)?.on('connect', (client) => {
    // Queued before anything the pool's caller sends on this client.
    client.query('DEALLOCATE ALL').catch(() => undefined);
  });
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

/**
 * Any number of processes may start at once: one applies the migrations, the
 * others wait for it. With a logger, pending migrations are announced before
 * they run (a fresh database takes a while) and counted when done; a start
 * with nothing to apply says nothing.
 */
export async function runMigrationsExclusively(dataSource: DataSource, embedded: boolean, log?: PinoLogger): Promise<string[]> {
  // Embedded PostgreSQL belongs to one process (its lock file) and has a
  // single connection, which the lock's own connection would starve.
  if (embedded) return applyPending(dataSource, log);
  const lock = dataSource.createQueryRunner();
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    return await applyPending(dataSource, log);
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await lock.release();
  }
}

async function applyPending(dataSource: DataSource, log: PinoLogger | undefined): Promise<string[]> {
  if (log) {
    const pending = (await new MigrationExecutor(dataSource).getPendingMigrations()).length;
    if (pending === 0) return [];
    const fresh = pending === dataSource.migrations.length;
    log.info({ pending }, fresh ? `database: creating the schema (${pending} migrations)` : `database: applying ${pending} new migration${pending === 1 ? '' : 's'}`);
  }
  const started = Date.now();
  const applied = (await dataSource.runMigrations({ transaction: 'each' })).map((m) => m.name);
  if (log && applied.length > 0) {
    log.info({ applied: applied.length, ms: Date.now() - started }, `database: ${applied.length} migration${applied.length === 1 ? '' : 's'} applied in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  return applied;
}

/** Arbitrary constant naming the migration lock among advisory locks. */
const MIGRATION_LOCK_KEY = 7_345_001;
