import { DataSource, EntityManager } from 'typeorm';

/**
 * Runs `work` in one `REPEATABLE READ` transaction on a connection of its
 * own, its first round trip also applying `settings` (constant `SET LOCAL`
 * statements, sent with the `START TRANSACTION` as one simple query). The
 * transaction commits when `work` resolves and rolls back when it throws.
 *
 * Why not TypeORM's `transaction('REPEATABLE READ', …)`: it sends `START
 * TRANSACTION` and `SET TRANSACTION ISOLATION LEVEL` as two statements, and a
 * report then sent its settings as a third. Under load each round trip costs
 * the API 0.3–0.5 ms of wall time (the socket write wakes the backend, which
 * takes the core: docs/almanach.md), a noticeable part of a small report's
 * ~12 ms. `work` must not open a transaction of its own on the manager it is
 * given (TypeORM does not know this one is open).
 */
export async function inSnapshot<T>(db: DataSource, settings: readonly string[], work: (sql: EntityManager) => Promise<T>): Promise<T> {
  const runner = db.createQueryRunner();
  await runner.connect();
  try {
    let result: T;
    try {
      // No parameters: node-postgres sends a simple query, which may hold several statements. When a
      // setting fails, the transaction is open and aborted: the rollback below ends it.
      await runner.query(['START TRANSACTION ISOLATION LEVEL REPEATABLE READ', ...settings].join('; '));
      result = await work(runner.manager);
    } catch (error) {
      await runner.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
    await runner.query('COMMIT');
    return result;
  } finally {
    await runner.release();
  }
}
