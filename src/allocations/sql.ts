import { DataSource, EntityManager } from 'typeorm';

/**
 * Runs an `UPDATE ... RETURNING` and gives its rows. TypeORM's PostgreSQL
 * driver answers UPDATE and DELETE with `[rows, rowCount]` instead of the rows.
 */
export async function updateReturning<T>(m: DataSource | EntityManager, sql: string, params: unknown[]): Promise<T[]> {
  const result = await m.query(sql, params);
  return Array.isArray(result) && Array.isArray(result[0]) ? (result[0] as T[]) : (result as T[]);
}
