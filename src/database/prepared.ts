import { createHash } from 'node:crypto';
import { EntityManager, QueryRunnerAlreadyReleasedError } from 'typeorm';
import { rowsOf, Sql } from './query-result';

/**
 * How many statements each connection keeps prepared through `runPrepared`.
 * A report's statement with its cached plans holds about 2 MB of the
 * backend's memory (pg_backend_memory_contexts: CachedPlan ~1 MB,
 * CachedPlanSource ~0.5 MB, measured on PostgreSQL 15), so the pool of 20
 * connections holds at most 20 × 8 × 2 MB.
 */
export const PREPARED_PER_CONNECTION = 8;

/** The node-postgres client of a pooled connection, as far as this file touches it. */
interface PgClient {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
  query(text: string): Promise<unknown>;
  /** node-postgres's record of the statements this connection has parsed (pg 8: `parsedStatements`). */
  connection?: { parsedStatements?: Record<string, string> };
}

/** Names prepared on each connection, least recently used first. */
const preparedOn = new WeakMap<PgClient, string[]>();

/**
 * Runs one statement as a named prepared statement of the connection that
 * runs `sql`'s transaction, so that PostgreSQL parses its text once per
 * connection and, after five executions, may keep a generic plan instead of
 * planning every call (`plan_cache_mode = auto`, the server's default, still
 * decides per statement). For long statements planned anew on every call
 * (the usage report: ~15 KB, 5–15 ms of parse and plan against 2–4 ms of
 * execution). The text must not embed values that change per call (every
 * value a parameter) or each call is a new statement. With a DataSource
 * (no query runner of its own) it runs unprepared.
 *
 * Values must serialise (strings, numbers, booleans, arrays of them): a value
 * whose serialisation throws makes node-postgres close the statement while
 * still counting it parsed, and the next call of that text would fail.
 */
export async function runPrepared<T>(sql: Sql, text: string, params: unknown[]): Promise<T[]> {
  const runner = sql instanceof EntityManager ? sql.queryRunner : undefined;
  if (!runner) return rowsOf<T>(await sql.query(text, params));
  // TypeORM's query() refuses a released runner; its client would by now be another request's.
  if (runner.isReleased) throw new QueryRunnerAlreadyReleasedError();
  const client = (await runner.connect()) as PgClient;
  const name = `ul_${createHash('sha1').update(text).digest('hex').slice(0, 32)}`;
  let result: { rows: unknown[] };
  try {
    result = await client.query({ name, text, values: params });
  } catch (error) {
    // Parsed but failed when run: still prepared, so counted, but nothing is closed now (the
    // transaction is aborted; the next successful call closes what is beyond the bound, which
    // failures in a row can therefore pass for a while).
    if (client.connection?.parsedStatements?.[name] !== undefined) markUsed(client, name);
    throw error;
  }
  const names = markUsed(client, name);
  while (names.length > PREPARED_PER_CONNECTION) {
    const oldest = names.shift()!;
    const parsed = client.connection?.parsedStatements;
    // Only a statement the server confirmed parsing exists there: DEALLOCATE of an unknown name is an
    // error, which would abort the caller's transaction.
    if (parsed?.[oldest] === undefined) continue;
    // Forgotten before the DEALLOCATE is sent: a query of the same name queued behind it must parse again.
    delete parsed[oldest];
    await client.query(`DEALLOCATE ${oldest}`);
  }
  return result.rows as T[];
}

/** Marks `name` the most recently used statement of `client`; the names, least recently used first. */
function markUsed(client: PgClient, name: string): string[] {
  const names = preparedOn.get(client) ?? [];
  preparedOn.set(client, names);
  const at = names.indexOf(name);
  if (at >= 0) names.splice(at, 1);
  names.push(name);
  return names;
}
