import { inSnapshot } from '../../src/database/snapshot';
import { useTestApp } from '../support/test-app';

/** `inSnapshot` (src/database/snapshot.ts): the transaction the reports read in, opened in one round trip with its settings. */
describe('inSnapshot', () => {
  const t = useTestApp();

  it('runs the work in one REPEATABLE READ transaction with its settings, which end with it', async () => {
    const db = t.runtime.dataSource;
    const inside = await inSnapshot(db, ['SET LOCAL jit = off', "SET LOCAL application_name = 'snapshot-test'"], async (tx) => {
      const [row] = (await tx.query(
        `SELECT current_setting('transaction_isolation') AS isolation, current_setting('jit') AS jit, current_setting('application_name') AS app, now() = statement_timestamp() AS first`,
      )) as { isolation: string; jit: string; app: string; first: boolean }[];
      // One transaction: a second statement sees the transaction's start, not its own.
      await new Promise((r) => setTimeout(r, 5));
      const [again] = (await tx.query(`SELECT now() < statement_timestamp() AS later, pg_current_xact_id_if_assigned() IS NULL AS read_only_so_far`)) as { later: boolean; read_only_so_far: boolean }[];
      return { ...row, ...again };
    });
    expect(inside).toEqual({ isolation: 'repeatable read', jit: 'off', app: 'snapshot-test', first: false, later: true, read_only_so_far: true });
    // The settings were local: every connection of the pool is back to its own.
    const after = await Promise.all(Array.from({ length: 3 }, () => db.query(`SELECT current_setting('application_name') AS app`)));
    for (const [row] of after) expect(row.app).not.toBe('snapshot-test');
  });

  it('commits what the work wrote when it resolves, and rolls it back when it throws', async () => {
    const db = t.runtime.dataSource;
    await db.query(`CREATE TABLE IF NOT EXISTS snapshot_probe (id int PRIMARY KEY)`);
    try {
      await db.query(`DELETE FROM snapshot_probe`);
      await inSnapshot(db, [], (tx) => tx.query(`INSERT INTO snapshot_probe VALUES (1)`));
      await expect(
        inSnapshot(db, [], async (tx) => {
          await tx.query(`INSERT INTO snapshot_probe VALUES (2)`);
          throw new Error('refused');
        }),
      ).rejects.toThrow('refused');
      // A statement error aborts the transaction; the rollback ends it, and the connection serves the next caller.
      await expect(inSnapshot(db, [], (tx) => tx.query(`INSERT INTO snapshot_probe VALUES (1)`))).rejects.toThrow(/duplicate key/);
      // Settings that fail leave nothing open either.
      await expect(inSnapshot(db, ['SET LOCAL no_such_setting_at_all = 1'], (tx) => tx.query(`INSERT INTO snapshot_probe VALUES (3)`))).rejects.toThrow();
      expect(await db.query(`SELECT id FROM snapshot_probe ORDER BY id`)).toEqual([{ id: 1 }]);
      const open = await Promise.all(Array.from({ length: 3 }, () => db.query(`SELECT pg_current_xact_id_if_assigned() IS NULL AS idle, now() = statement_timestamp() AS fresh`)));
      for (const [row] of open) expect(row).toEqual({ idle: true, fresh: true });
    } finally {
      await db.query(`DROP TABLE IF EXISTS snapshot_probe`);
    }
  });
});
