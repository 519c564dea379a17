import { DataSource, EntityManager, QueryRunner } from 'typeorm';

/** The node-postgres client of a query runner, as far as this file uses it: a simple query of several statements answers one result each. */
interface PgClient {
  query(text: string): Promise<Array<{ rows: unknown[] }> | { rows: unknown[] }>;
}

/** How a transaction begins: its isolation (READ COMMITTED when absent) and the statements sent with its START TRANSACTION. */
export interface Beginning {
  isolation?: 'REPEATABLE READ';
  statements: readonly string[];
}

/**
 * A transaction whose first statements travel with its START TRANSACTION, in
 * one round trip (one simple query), then `work` on the transaction's
 * manager with the rows of the last of them, committed when it returns and
 * rolled back when it throws. TypeORM's `transaction()` sends START
 * TRANSACTION alone (and an isolation level as a second statement) and waits
 * for each answer, and on this kind of machine each round trip costs about
 * 0.1-0.2 ms of CPU on each side (the wake-up of the other process, measured
 * by bench/almanach: issue 14), so a short write of four round trips pays a
 * fifth of them for the BEGIN alone.
 *
 * The statements run on the simple protocol, so they take no parameters:
 * every value in them must be a literal made by `escapeLiteral`
 * (node-postgres) or a constant. Each is planned on every call: keep them
 * cheap (a function call whose body PL/pgSQL plans once per connection, a
 * `SET LOCAL`). A string is one statement.
 *
 * The runner is marked as TypeORM's startTransaction marks it (typeorm 0.3:
 * `isTransactionActive`, `transactionDepth`), so that its commit, rollback
 * and a nested `transaction()` on the manager (a savepoint) behave as in a
 * transaction TypeORM began. It does not broadcast the transaction-start
 * events to entity subscribers; this service has none.
 */
export async function transactionBegunWith<T, R = unknown>(
  db: DataSource,
  beginning: string | Beginning,
  work: (m: EntityManager, rows: R[]) => Promise<T>,
): Promise<T> {
  const runner = db.createQueryRunner();
  try {
    const rows = await begin<R>(runner, typeof beginning === 'string' ? { statements: [beginning] } : beginning);
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

async function begin<R>(runner: QueryRunner, { isolation, statements }: Beginning): Promise<R[]> {
  const text = [isolation ? `START TRANSACTION ISOLATION LEVEL ${isolation}` : 'START TRANSACTION', ...statements].join('; ');
  // A NUL would end the query's text early on the wire: PostgreSQL answers 08P01, a connection-class code that
  // callers retry as transient (the collector would retry such a notification for ever). No text value holds one.
  if (text.includes('\u0000')) throw new Error('a value holds a NUL character, which PostgreSQL text cannot hold');
  const client = (await runner.connect()) as PgClient;
  const state = runner as unknown as { isTransactionActive: boolean; transactionDepth: number };
  state.isTransactionActive = true;
  state.transactionDepth = 1;
  const answer = await client.query(text);
  // node-postgres answers one result per statement, as an array when there are several.
  const results = Array.isArray(answer) ? answer : [answer];
  if (results.length !== statements.length + 1) throw new Error(`transactionBegunWith: ${statements.length} statements sent, ${results.length - 1} answered`);
  return (statements.length === 0 ? [] : results[results.length - 1].rows) as R[];
}
