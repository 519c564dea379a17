import { DataSource, EntityManager, QueryRunner } from 'typeorm';

/** The node-postgres client of a query runner, as far as this file uses it: a simple query of several statements answers one result each. */
interface PgClient {
  query(text: string): Promise<Array<{ rows: unknown[] }> | { rows: unknown[] }>;
}

/**
 * A transaction whose first statement travels with its START TRANSACTION, in
 * one round trip (one simple query of two statements), then `work` on the
 * transaction's manager, committed when it returns and rolled back when it
 * throws. TypeORM's `transaction()` sends START TRANSACTION alone and waits
 * for its answer, and on this kind of machine each round trip costs about
 * 0.1-0.2 ms of CPU on each side (the wake-up of the other process, measured
 * by bench/almanach: issue 14), so a short write of four round trips pays a
 * fifth of them for the BEGIN alone.
 *
 * `firstStatement` runs on the simple protocol, so it takes no parameters:
 * every value in it must be a literal made by `escapeLiteral` (node-postgres)
 * or a number the caller made. It is planned on every call: keep it a cheap
 * one (a function call whose body PL/pgSQL plans once per connection).
 *
 * The runner is marked as TypeORM's startTransaction marks it (typeorm 0.3:
 * `isTransactionActive`, `transactionDepth`), so that its commit, rollback
 * and a nested `transaction()` on the manager (a savepoint) behave as in a
 * transaction TypeORM began. It does not broadcast the transaction-start
 * events to entity subscribers; this service has none.
 */
export async function transactionBegunWith<T, R>(
  db: DataSource,
  firstStatement: string,
  work: (m: EntityManager, rows: R[]) => Promise<T>,
): Promise<T> {
  const runner = db.createQueryRunner();
  try {
    const rows = await begin<R>(runner, firstStatement);
    const result = await work(runner.manager, rows);
    await runner.commitTransaction();
    return result;
  } catch (error) {
    // A START TRANSACTION that failed leaves no transaction: PostgreSQL then answers the ROLLBACK with a warning only.
    if (runner.isTransactionActive && !runner.isReleased) await runner.rollbackTransaction().catch(() => undefined);
    throw error;
  } finally {
    await runner.release();
  }
}

async function begin<R>(runner: QueryRunner, firstStatement: string): Promise<R[]> {
  // A NUL would end the query's text early on the wire: PostgreSQL answers 08P01, a connection-class code that
  // callers retry as transient (the collector would retry such a notification for ever). No text value holds one.
  if (firstStatement.includes('\u0000')) throw new Error('a value holds a NUL character, which PostgreSQL text cannot hold');
  const client = (await runner.connect()) as PgClient;
  const state = runner as unknown as { isTransactionActive: boolean; transactionDepth: number };
  state.isTransactionActive = true;
  state.transactionDepth = 1;
  const results = await client.query(`START TRANSACTION; ${firstStatement}`);
  if (!Array.isArray(results) || results.length !== 2) throw new Error('transactionBegunWith: the first statement must be exactly one statement');
  return results[1].rows as R[];
}
