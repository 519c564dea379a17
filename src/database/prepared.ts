import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { EntityManager, QueryRunnerAlreadyReleasedError } from 'typeorm';
import { countOf, rowsOf, Sql } from './query-result';

/**
 * How many long statements (LONG_TEXT characters or more) each connection
 * keeps prepared through `runPrepared`. A report's statement with its cached
 * plans holds about 2 MB of the backend's memory (pg_backend_memory_contexts:
 * CachedPlan ~1 MB, CachedPlanSource ~0.5 MB, measured on PostgreSQL 15), so
 * a pool of DATABASE_POOL_SIZE connections (20 by default) holds at most that × 8 × 2 MB.
 */
export const PREPARED_PER_CONNECTION = 8;
/** Statements at least this long count against PREPARED_PER_CONNECTION; shorter ones against SHORT_PREPARED_PER_CONNECTION. */
export const LONG_TEXT = 2_000;
/**
 * How many short statements each connection keeps prepared: the fixed
 * statements of hot writes (an Almanach write's insert, close and
 * close-and-insert; the token lookup), tens of kilobytes each with their
 * plans, so that a report's long ones never push them out and the reverse.
 */
export const SHORT_PREPARED_PER_CONNECTION = 32;
/**
 * How many `varied` statements each connection keeps prepared: statements
 * with one text per set of a few literal values (the Almanach window
 * listing: one per set of months, each ~130 KB with its generic plan when
 * it reads three partitions, measured on PostgreSQL 15), in a bound of their
 * own so that their variety never closes the fixed statements of the other
 * kinds, nor the reverse.
 */
export const VARIED_PREPARED_PER_CONNECTION = 8;

/** Which bound a statement counts against: by default its text's length decides (LONG_TEXT); `varied` (above) when given. */
export type StatementKind = 'varied';

/** The node-postgres client of a pooled connection, as far as this file touches it. */
interface PgClient {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[]; rowCount: number | null }>;
  query(text: string): Promise<unknown>;
  /** node-postgres's record of the statements this connection has parsed (pg 8: `parsedStatements`). */
  connection?: { parsedStatements?: Record<string, string> };
}

type Bucket = 'long' | 'short' | 'varied';
const BOUNDS: Record<Bucket, number> = { long: PREPARED_PER_CONNECTION, short: SHORT_PREPARED_PER_CONNECTION, varied: VARIED_PREPARED_PER_CONNECTION };
/** Names prepared on each connection, least recently used first, per bound. */
const preparedOn = new WeakMap<PgClient, Record<Bucket, string[]>>();
/** Names to close on each connection before its next statement here: their result type changed (staleResultType). */
const staleOn = new WeakMap<PgClient, Set<string>>();

/**
 * PostgreSQL fixes the result type of a prepared statement: once a migration
 * changes the type of a column it selects, every run fails with this error,
 * and the statement must be closed and prepared again.
 */
function staleResultType(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown };
  return e?.code === '0A000' && typeof e.message === 'string' && e.message.includes('cached plan must not change result type');
}

/**
 * Runs one statement as a named prepared statement of the connection that
 * runs `sql`'s transaction, so that PostgreSQL parses its text once per
 * connection and, after five executions, may keep a generic plan instead of
 * planning every call (`plan_cache_mode = auto`, the server's default, still
 * decides per statement). For long statements planned anew on every call
 * (the usage report: ~15 KB, 5–15 ms of parse and plan against 2–4 ms of
 * execution), and for the short statements of hot writes (an Almanach
 * write's, where parse and plan of each statement on the partitioned
 * history were about a third of the database's time per write). The text
 * must not embed values that change per call (every value a parameter) or
 * each call is a new statement; a text that embeds a few values taking few
 * different values (the Almanach listing's months) is `varied` and kept in
 * a bound of its own. With a DataSource (or a manager with no
 * query runner of its own) it runs on a client of the driver's pool, taken
 * for that one statement (the X-Auth-Token lookup, an Almanach project's
 * month floors), or unprepared where the driver has no pool.
 *
 * Not for a statement whose only bound on a partition key is a parameter
 * (a create's later-end check): after five runs PostgreSQL builds and keeps
 * a generic plan, which would cover every partition, on every connection.
 * The Almanach listing is prepared because its months are literals
 * (windowListing), when it reads few of them. A statement whose result type a migration changed is
 * closed and prepared again (staleResultType).
 *
 * Values must serialise (strings, numbers, booleans, arrays of them): a value
 * whose serialisation throws makes node-postgres close the statement while
 * still counting it parsed, and the next call of that text would fail.
 */
export async function runPrepared<T>(sql: Sql, text: string, params: unknown[], kind?: StatementKind): Promise<T[]> {
  return (await runPreparedResult<T>(sql, text, params, kind)).rows;
}

/** runPrepared's statement, answering how many rows it touched (an UPDATE or DELETE without RETURNING). */
export async function runPreparedCount(sql: Sql, text: string, params: unknown[]): Promise<number> {
  return (await runPreparedResult(sql, text, params)).count;
}

/** node-postgres's pool behind a DataSource (TypeORM's PostgreSQL driver: `master`), as far as this file uses it. */
interface PgPool {
  connect(): Promise<PgClient & { release(): void }>;
}

async function runPreparedResult<T>(sql: Sql, text: string, params: unknown[], kind?: StatementKind): Promise<{ rows: T[]; count: number }> {
  const runner = sql instanceof EntityManager ? sql.queryRunner : undefined;
  if (!runner) {
    const dataSource = sql instanceof EntityManager ? sql.connection : sql;
    const pool = (dataSource as unknown as { driver?: { master?: PgPool } }).driver?.master;
    if (!pool || typeof pool.connect !== 'function') {
      const result = await sql.query(text, params);
      return { rows: rowsOf<T>(result), count: countOf(result) };
    }
    const client = await pool.connect();
    try {
      // No transaction: a statement whose result type changed is closed and prepared again at once.
      return await runOn<T>(client, text, params, true, kind);
    } finally {
      // A connection broken meanwhile is marked so (data-source.ts, keepPoolHealthy) and dropped here.
      client.release();
    }
  }
  // TypeORM's query() refuses a released runner; its client would by now be another request's.
  if (runner.isReleased) throw new QueryRunnerAlreadyReleasedError();
  // In a transaction, which the failure aborts: closed before the connection's next statement here.
  return runOn<T>((await runner.connect()) as PgClient, text, params, false, kind);
}

/**
 * The statement as a prepared statement of `client`, and the bound of its
 * kind kept. `again`: when its result type changed, close it and run it once
 * more (only outside a transaction, which the failure would have aborted).
 */
async function runOn<T>(client: PgClient, text: string, params: unknown[], again: boolean, kind?: StatementKind): Promise<{ rows: T[]; count: number }> {
  const stale = staleOn.get(client);
  for (const old of stale ?? []) {
    await client.query(`DEALLOCATE ${old}`);
    stale!.delete(old);
  }
  const name = nameOf(text);
  const bucket: Bucket = kind ?? (text.length >= LONG_TEXT ? 'long' : 'short');
  let result: { rows: unknown[]; rowCount: number | null };
  try {
    result = await client.query({ name, text, values: params });
  } catch (error) {
    if (staleResultType(error) && client.connection?.parsedStatements?.[name] !== undefined) {
      // Forgotten here at once (the next use parses again), closed on the server before the next statement.
      delete client.connection.parsedStatements[name];
      forget(client, name);
      staleOn.set(client, (staleOn.get(client) ?? new Set()).add(name));
      if (again) return runOn<T>(client, text, params, false, kind);
      throw error;
    }
    // Parsed but failed when run: still prepared, so counted, but nothing is closed now (the
    // transaction is aborted; the next successful call closes what is beyond the bound, which
    // failures in a row can therefore pass for a while).
    if (client.connection?.parsedStatements?.[name] !== undefined) markUsed(client, name, bucket);
    throw error;
  }
  const names = markUsed(client, name, bucket);
  while (names.length > BOUNDS[bucket]) {
    const oldest = names.shift()!;
    const parsed = client.connection?.parsedStatements;
    // Only a statement the server confirmed parsing exists there: DEALLOCATE of an unknown name is an
    // error, which would abort the caller's transaction.
    if (parsed?.[oldest] === undefined) continue;
    // Forgotten before the DEALLOCATE is sent: a query of the same name queued behind it must parse again.
    delete parsed[oldest];
    await client.query(`DEALLOCATE ${oldest}`);
  }
  return { rows: result.rows as T[], count: result.rowCount ?? result.rows.length };
}

/** Names of the texts run lately (nameOf): a digest per call was about 1 % of the API's CPU per listing. */
const digests = new LRUCache<string, string>({ max: 1_000 });

/** A statement's name: a digest of its text. */
function nameOf(text: string): string {
  let name = digests.get(text);
  if (name === undefined) {
    name = `ul_${createHash('sha1').update(text).digest('hex').slice(0, 32)}`;
    digests.set(text, name);
  }
  return name;
}

/** Drops `name` from the names kept for `client`. */
function forget(client: PgClient, name: string): void {
  const prepared = preparedOn.get(client);
  for (const list of prepared ? Object.values(prepared) : []) without(list, name);
}

/** Removes `name` from `list` where it is. */
function without(list: string[], name: string): void {
  const at = list.indexOf(name);
  if (at >= 0) list.splice(at, 1);
}

/** Marks `name` the most recently used statement of its bound on `client`; the names of that bound, least recently used first. */
function markUsed(client: PgClient, name: string, bucket: Bucket): string[] {
  let prepared = preparedOn.get(client);
  if (!prepared) {
    prepared = { long: [], short: [], varied: [] };
    preparedOn.set(client, prepared);
  }
  const list = prepared[bucket];
  without(list, name);
  list.push(name);
  return list;
}
