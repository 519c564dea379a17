import { DataSource, EntityManager } from 'typeorm';
import { transactionBegunWith } from './begun-with';

/**
 * Runs `work` in one `REPEATABLE READ` transaction on a connection of its
 * own, its first round trip also applying `settings` (constant `SET LOCAL`
 * statements, sent with the `START TRANSACTION` as one simple query:
 * transactionBegunWith). The transaction commits when `work` resolves and
 * rolls back when it throws.
 *
 * Why not TypeORM's `transaction('REPEATABLE READ', …)`: it sends `START
 * TRANSACTION` and `SET TRANSACTION ISOLATION LEVEL` as two statements, and a
 * report then sent its settings as a third. Under load each round trip costs
 * the API 0.3–0.5 ms of wall time (the socket write wakes the backend, which
 * takes the core: docs/almanach.md), a noticeable part of a small report's
 * ~12 ms.
 */
export async function inSnapshot<T>(db: DataSource, settings: readonly string[], work: (sql: EntityManager) => Promise<T>): Promise<T> {
  return transactionBegunWith(db, { isolation: 'REPEATABLE READ', statements: settings }, (m) => work(m));
}
