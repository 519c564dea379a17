import { escapeLiteral } from 'pg';
import { transactionBegunWith } from '../../src/database/begun-with';
import { AlmanachService } from '../../src/almanach/almanach.service';
import { isTransientDatabaseError } from '../../src/collector/transient';
import { parseAlmanachDate } from '../../src/almanach/almanach-dates';
import { useTestApp } from '../support/test-app';

/**
 * An Almanach write's transaction begins with its first statement in one
 * round trip (src/database/begun-with.ts, AlmanachRepository
 * .inEntityTransaction): it must commit, roll back, nest and give its
 * connection back exactly as a transaction TypeORM began. The lock's
 * snapshot rule is held by almanach.e2e's race of creates and resizes.
 */
describe('transactions begun with their first statement (src/database/begun-with.ts)', () => {
  const table = 'begun_with_probe';
  // Declared before useTestApp's hooks, so it runs while the app is still open (after-all hooks run in declaration order).
  afterAll(async () => {
    await db().query(`DROP TABLE IF EXISTS ${table}`);
  });
  const t = useTestApp();
  const db = () => t.runtime.dataSource;

  beforeAll(async () => {
    await db().query(`CREATE TABLE IF NOT EXISTS ${table} (k text PRIMARY KEY)`);
  });
  beforeEach(async () => {
    await db().query(`TRUNCATE ${table}`);
  });
  const keys = async () => ((await db().query(`SELECT k FROM ${table} ORDER BY k`)) as { k: string }[]).map((r) => r.k);
  const insert = (k: string) => `INSERT INTO ${table} VALUES (${escapeLiteral(k)}) RETURNING k`;

  it('answers the first statement’s rows, runs the work in the same transaction and commits it', async () => {
    const answer = await transactionBegunWith<string, { k: string; txid: string }>(db(), `${insert('a')}, txid_current()::text AS txid`, async (m, rows) => {
      expect(rows).toEqual([{ k: 'a', txid: expect.any(String) }]);
      const [{ txid }] = await m.query(`SELECT txid_current()::text AS txid`);
      expect(txid).toBe(rows[0].txid);
      await m.query(insert('b'));
      return 'done';
    });
    expect(answer).toBe('done');
    expect(await keys()).toEqual(['a', 'b']);
  });

  it('a failure in the work rolls back the first statement too, and every connection comes back to the pool', async () => {
    // More failures than the pool has connections (20): a connection kept by a failure would stall the last call.
    for (let i = 0; i < 25; i++) {
      await expect(
        transactionBegunWith(db(), insert(`x${i}`), async (m) => {
          await m.query(insert(`y${i}`));
          throw new Error(`work ${i} failed`);
        }),
      ).rejects.toThrow(`work ${i} failed`);
    }
    expect(await keys()).toEqual([]);
    await transactionBegunWith(db(), insert('after'), async () => undefined);
    expect(await keys()).toEqual(['after']);
  });

  it('a failing first statement is answered with its database error, and nothing stays open', async () => {
    await db().query(`INSERT INTO ${table} VALUES ('dup')`);
    for (let i = 0; i < 25; i++) {
      await expect(transactionBegunWith(db(), insert('dup'), async () => 'never')).rejects.toMatchObject({ code: '23505' });
    }
    await transactionBegunWith(db(), insert('next'), async () => undefined);
    expect(await keys()).toEqual(['dup', 'next']);
  });

  it('a nested transaction on its manager is a savepoint: its rollback keeps the outer work, which commits', async () => {
    await transactionBegunWith(db(), insert('outer'), async (m) => {
      await expect(
        m.transaction(async (inner) => {
          await inner.query(insert('inner'));
          throw new Error('inner failed');
        }),
      ).rejects.toThrow('inner failed');
      await m.query(insert('outer-2'));
    });
    expect(await keys()).toEqual(['outer', 'outer-2']);
  });

  it('begins at the isolation asked, with several statements, answering the rows of the last', async () => {
    const rows = await transactionBegunWith<string[], { iso: string; tz: string }>(
      db(),
      { isolation: 'REPEATABLE READ', statements: [`SET LOCAL TIME ZONE 'Pacific/Chatham'`, `SELECT current_setting('transaction_isolation') AS iso, current_setting('TimeZone') AS tz`] },
      async (m, answered) => {
        const [{ iso }] = await m.query(`SELECT current_setting('transaction_isolation') AS iso`);
        return [answered[0].iso, answered[0].tz, iso];
      },
    );
    expect(rows).toEqual(['repeatable read', 'Pacific/Chatham', 'repeatable read']);
  });

  it('a string holding two statements is refused, and what they did is rolled back', async () => {
    await expect(transactionBegunWith(db(), `${insert('one')}; ${insert('two')}`, async () => undefined)).rejects.toThrow('1 statements sent, 2 answered');
    expect(await keys()).toEqual([]);
  });

  it('an entity id holding a NUL is refused before it is sent, with an error the collector does not retry in place, and nothing is written', async () => {
    const write = t.app.get(AlmanachService).createInstance({
      instanceId: 'nul\u0000id',
      projectId: 'p-nul',
      createdAt: parseAlmanachDate('2024-01-01T00:00:00Z')!,
      name: 'n',
      flavor: 'm1.small',
      imageMeta: {},
      metadata: {},
    });
    const error = await write.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain('NUL');
    expect(isTransientDatabaseError(error)).toBe(false);
    const [{ n }] = await db().query(`SELECT count(*)::int AS n FROM almanach_entity_version WHERE project_id = 'p-nul'`);
    expect(n).toBe(0);
  });
});
