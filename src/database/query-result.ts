import { DataSource, EntityManager } from 'typeorm';

/** Anything that runs SQL: the DataSource, or a transaction's EntityManager. */
export type Sql = DataSource | EntityManager;

/**
 * The rows of a `query()` result. TypeORM's PostgreSQL driver answers a
 * SELECT (or INSERT ... RETURNING) with the rows, but an UPDATE or DELETE
 * with `[rows, rowCount]`; every repository reads results through here (or
 * `runRows`/`runCount`) and never looks at that shape itself.
 */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0] as T[];
  return (result ?? []) as T[];
}

/** How many rows a statement touched, whatever the statement. */
export function countOf(result: unknown): number {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[1];
  return Array.isArray(result) ? result.length : 0;
}

/** Runs one statement and gives its rows, typed. */
export async function runRows<T>(sql: Sql, text: string, params: unknown[] = []): Promise<T[]> {
  return rowsOf<T>(await sql.query(text, params));
}

/** Runs one statement and gives its first row, or undefined. */
export async function runOne<T>(sql: Sql, text: string, params: unknown[] = []): Promise<T | undefined> {
  return rowsOf<T>(await sql.query(text, params))[0];
}

/** Runs one statement and gives the number of rows it touched. */
export async function runCount(sql: Sql, text: string, params: unknown[] = []): Promise<number> {
  return countOf(await sql.query(text, params));
}

/** The cheapest round trip to the database (health checks). */
export async function pingDatabase(sql: Sql): Promise<void> {
  await sql.query('SELECT 1');
}
