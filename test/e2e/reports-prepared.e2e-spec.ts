import { createHash } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { LONG_TEXT, PREPARED_PER_CONNECTION, runPrepared, runPreparedCount, SHORT_PREPARED_PER_CONNECTION, VARIED_PREPARED_PER_CONNECTION } from '../../src/database/prepared';
import { REPORT_SETTINGS, UsageReportRepository } from '../../src/reports/usage/usage-report.repository';
import { almanach, drainRollups } from '../support/reports';
import { marchQuery } from '../support/usage-query';
import { useTestApp } from '../support/test-app';

/**
 * The usage report runs as a prepared statement per connection
 * (src/database/prepared.ts): its text must depend on the query's shape
 * only, the number kept per connection is bounded, and the answers of a
 * statement run many times (PostgreSQL may then use a generic plan) are
 * those of each call's own values.
 */
describe('prepared report statements (src/database/prepared.ts)', () => {
  const t = useTestApp({ REPORT_TIME_ZONE: 'UTC' });

  /** One connection of the pool, held for the test, inside a transaction. */
  async function onOneConnection<T>(work: (tx: EntityManager, preparedNames: (kind?: 'long' | 'short') => Promise<string[]>) => Promise<T>): Promise<T> {
    const runner = t.runtime.dataSource.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    try {
      // The names this connection keeps prepared, of one kind (long: LONG_TEXT characters or more) or both.
      const names = async (kind?: 'long' | 'short') =>
        (
          (await runner.query(
            `SELECT name FROM pg_prepared_statements WHERE name LIKE 'ul\\_%' AND ($1::text IS NULL OR (length(statement) >= $2) = ($1 = 'long')) ORDER BY name`,
            [kind ?? null, LONG_TEXT],
          )) as { name: string }[]
        ).map((r) => r.name);
      return await work(runner.manager, names);
    } finally {
      // The statements stay prepared (bounded): a DEALLOCATE ALL here would leave node-postgres
      // believing they exist, and the next use of this pooled connection would fail.
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      await runner.release();
    }
  }

  /** A long statement (a report's size) or a short one (a hot write's), numbered k. */
  const longStatement = (k: number) => `SELECT $1::int + ${k} AS n /* ${'x'.repeat(LONG_TEXT)} */`;
  const shortStatement = (k: number) => `SELECT $1::int + ${k} AS n`;

  it.each([
    ['long', PREPARED_PER_CONNECTION, longStatement],
    ['short', SHORT_PREPARED_PER_CONNECTION, shortStatement],
  ] as const)('keeps at most a bound of %s statements per connection (%i), least recently used closed first, and runs a closed one again', async (kind, bound, statement) => {
    await onOneConnection(async (tx, allNames) => {
      const names = () => allNames(kind);
      const nameOf = (k: number) => `ul_${createHash('sha1').update(statement(k)).digest('hex').slice(0, 32)}`;
      const namesOf = (ks: number[]) => ks.map(nameOf).sort();
      for (let k = 0; k < bound + 3; k++) {
        expect(await runPrepared<{ n: number }>(tx, statement(k), [100])).toEqual([{ n: 100 + k }]);
      }
      // Whatever this connection prepared before, the last ones are what it keeps.
      const recent = (from: number) => Array.from({ length: bound }, (_, i) => from + i);
      expect(await names()).toEqual(namesOf(recent(3)));
      // Statement 3 is used again: it becomes the most recent, so the next new one closes 4, not 3.
      expect(await runPrepared<{ n: number }>(tx, statement(3), [1])).toEqual([{ n: 4 }]);
      expect(await runPrepared<{ n: number }>(tx, statement(50), [1])).toEqual([{ n: 51 }]);
      expect(await names()).toEqual(namesOf([3, ...recent(5).slice(0, bound - 2), 50]));
      // A statement closed earlier (0) is prepared again and answers.
      expect(await runPrepared<{ n: number }>(tx, statement(0), [7])).toEqual([{ n: 7 }]);
      expect(await names()).toHaveLength(bound);
      expect(await names()).toContain(nameOf(0));
    });
  });

  it('long statements never close short ones, nor the reverse; runPreparedCount answers the rows an UPDATE touched', async () => {
    await onOneConnection(async (tx, names) => {
      for (let k = 0; k < 3; k++) await runPrepared(tx, shortStatement(1000 + k), [1]);
      const short = await names('short');
      for (let k = 0; k < PREPARED_PER_CONNECTION + 2; k++) await runPrepared(tx, longStatement(2000 + k), [1]);
      expect(await names('short')).toEqual(short);
      const long = await names('long');
      expect(long).toHaveLength(PREPARED_PER_CONNECTION);
      for (let k = 0; k < 3; k++) await runPrepared(tx, shortStatement(3000 + k), [1]);
      expect(await names('long')).toEqual(long);
      await tx.query(`CREATE TEMPORARY TABLE prepared_count (n int) ON COMMIT DROP`);
      await tx.query(`INSERT INTO prepared_count SELECT generate_series(1, 5)`);
      expect(await runPreparedCount(tx, 'UPDATE prepared_count SET n = n + 1 WHERE n > $1', [2])).toBe(3);
      expect(await runPreparedCount(tx, 'UPDATE prepared_count SET n = n + 1 WHERE n > $1', [100])).toBe(0);
    });
  });

  it('varied statements have a bound of their own: they close neither long nor short ones, nor the reverse', async () => {
    await onOneConnection(async (tx, names) => {
      const nameOf = (text: string) => `ul_${createHash('sha1').update(text).digest('hex').slice(0, 32)}`;
      const longs = Array.from({ length: PREPARED_PER_CONNECTION }, (_, k) => longStatement(4000 + k));
      const shorts = Array.from({ length: 3 }, (_, k) => shortStatement(4100 + k));
      for (const text of [...longs, ...shorts]) await runPrepared(tx, text, [1]);
      // Long and short texts alike, VARIED_PREPARED_PER_CONNECTION + 2 of them.
      const varied = Array.from({ length: VARIED_PREPARED_PER_CONNECTION + 2 }, (_, k) => (k % 2 ? longStatement : shortStatement)(5000 + k));
      for (const [k, text] of varied.entries()) expect(await runPrepared<{ n: number }>(tx, text, [1], 'varied')).toEqual([{ n: 5001 + k }]);
      let kept = await names();
      for (const text of [...longs, ...shorts, ...varied.slice(2)]) expect(kept).toContain(nameOf(text));
      for (const text of varied.slice(0, 2)) expect(kept).not.toContain(nameOf(text));
      // New long and short statements close their own kind only.
      for (let k = 0; k < PREPARED_PER_CONNECTION; k++) await runPrepared(tx, longStatement(6000 + k), [1]);
      for (let k = 0; k < SHORT_PREPARED_PER_CONNECTION; k++) await runPrepared(tx, shortStatement(6100 + k), [1]);
      kept = await names();
      for (const text of varied.slice(2)) expect(kept).toContain(nameOf(text));
      for (const text of [...longs, ...shorts]) expect(kept).not.toContain(nameOf(text));
      // Short varied texts close the long ones (the next test counts this pooled connection's long texts).
      for (let k = 0; k < VARIED_PREPARED_PER_CONNECTION; k++) await runPrepared(tx, shortStatement(7000 + k), [1], 'varied');
      kept = await names();
      for (const text of varied) expect(kept).not.toContain(nameOf(text));
    });
  });

  it('a statement that fails leaves the count bounded and the next transaction working', async () => {
    const runner = t.runtime.dataSource.createQueryRunner();
    await runner.connect();
    try {
      const pad = ` /* ${'x'.repeat(LONG_TEXT)} */`;
      for (let k = 0; k < PREPARED_PER_CONNECTION; k++) await runPrepared(runner.manager, `SELECT $1::int * ${k} AS n${pad}`, [1]);
      await runner.startTransaction();
      // Parses, then fails when run: prepared but the transaction is aborted; nothing is closed now.
      await expect(runPrepared(runner.manager, `SELECT 1 / $1::int AS n${pad}`, [0])).rejects.toThrow(/division by zero/);
      await runner.rollbackTransaction();
      // A statement that does not parse is not prepared at all.
      await runner.startTransaction();
      await expect(runPrepared(runner.manager, `SELEC $1::int${pad}`, [0])).rejects.toThrow(/syntax error/);
      await runner.rollbackTransaction();
      await runner.startTransaction();
      // The failed one counts among the kept: the next new statement closes two, back to the bound.
      expect(await runPrepared(runner.manager, `SELECT $1::int - 1 AS n${pad}`, [2])).toEqual([{ n: 1 }]);
      const kept = async () =>
        ((await runner.query(`SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name LIKE 'ul\\_%' AND length(statement) >= $1`, [LONG_TEXT])) as { n: number }[])[0].n;
      expect(await kept()).toBe(PREPARED_PER_CONNECTION);
      expect(await runPrepared(runner.manager, `SELECT 1 / $1::int AS n${pad}`, [2])).toEqual([{ n: 0 }]);
      expect(await kept()).toBe(PREPARED_PER_CONNECTION);
      await runner.commitTransaction();
    } finally {
      // The statements stay prepared (bounded): a DEALLOCATE ALL here would leave node-postgres
      // believing they exist, and the next use of this pooled connection would fail.
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      await runner.release();
    }
  });

  it('with the DataSource (no query runner of its own) runs the statement prepared on a pool client taken for it, and gives the client back', async () => {
    const plain = jest.spyOn(t.runtime.dataSource, 'query');
    const text = 'SELECT $1::text AS s, count(*)::int AS n FROM pg_prepared_statements WHERE statement = $2';
    try {
      // The statement sees itself prepared on the connection that runs it.
      expect(await runPrepared(t.runtime.dataSource, text, ['x', text])).toEqual([{ s: 'x', n: 1 }]);
      expect(plain).not.toHaveBeenCalled();
      // More failures than the pool has connections (20): each gives its client back, or the last call would wait for ever.
      for (let k = 0; k < 25; k++) await expect(runPrepared(t.runtime.dataSource, 'SELECT 1 / $1::int AS n', [0])).rejects.toThrow(/division by zero/);
      expect(await runPreparedCount(t.runtime.dataSource, 'SELECT generate_series(1, $1::int)', [3])).toBe(3);
    } finally {
      plain.mockRestore();
    }
  });

  it('a statement whose result type a migration changed is prepared again: at once outside a transaction, from the next transaction inside one', async () => {
    const db = t.runtime.dataSource;
    const text = 'SELECT k FROM prepared_kind WHERE $1::int IS NOT NULL';
    const runner = db.createQueryRunner();
    await runner.connect();
    try {
      await runner.query('CREATE TABLE prepared_kind (k int)');
      await runner.query('INSERT INTO prepared_kind VALUES (7)');
      // In a transaction of one connection: prepared, then the column changes type on that same connection.
      await runner.startTransaction();
      expect(await runPrepared(runner.manager, text, [1])).toEqual([{ k: 7 }]);
      await runner.commitTransaction();
      await runner.query('ALTER TABLE prepared_kind ALTER COLUMN k TYPE bigint');
      await runner.startTransaction();
      await expect(runPrepared(runner.manager, text, [1])).rejects.toThrow(/cached plan must not change result type/);
      await runner.rollbackTransaction();
      // The next transaction closes it first and prepares it again.
      await runner.startTransaction();
      expect(await runPrepared(runner.manager, text, [1])).toEqual([{ k: '7' }]);
      await runner.commitTransaction();
    } finally {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      await runner.release();
    }
    // On pool clients (no transaction): prepared on the clients these calls get, the type changes again, every call still answers.
    for (let k = 0; k < 25; k++) expect(await runPrepared(db, text, [1])).toEqual([{ k: '7' }]);
    await db.query('ALTER TABLE prepared_kind ALTER COLUMN k TYPE text');
    for (let k = 0; k < 25; k++) expect(await runPrepared(db, text, [1])).toEqual([{ k: '7' }]);
    await db.query('DROP TABLE prepared_kind');
  });

  it("a report's transaction runs its statement prepared with a generic plan, and the setting ends with it", async () => {
    const reports = t.app.get(UsageReportRepository);
    const base = marchQuery();
    const runner = t.runtime.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction('REPEATABLE READ');
      await runner.query(REPORT_SETTINGS.join('; '));
      for (const project of ['p1', 'p2', 'p3']) await reports.aggregate({ ...base, projects: [project] }, runner.manager);
      const plans = (await runner.query(
        `SELECT generic_plans::int AS generic, custom_plans::int AS custom FROM pg_prepared_statements WHERE name LIKE 'ul\\_%' AND statement LIKE '%WITH clock AS%'`,
      )) as { generic: number; custom: number }[];
      expect(plans).toContainEqual({ generic: 3, custom: 0 });
      await runner.commitTransaction();
      expect(await runner.query('SHOW plan_cache_mode')).toEqual([{ plan_cache_mode: 'auto' }]);
    } finally {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      await runner.release();
    }
  });

  it('a connection the pool opens again answers the shapes prepared on the one it replaced (embedded: one session behind the socket)', async () => {
    const a = almanach(t, await t.token('service'));
    await a.createInstance('pr', 'ir', '2025-03-01T00:00:00Z', 'a');
    await drainRollups(t);
    const admin = await t.token('reader');
    const report = async () => (await t.http.get('/reports/usage?project_id=pr&period=2025-03').set('X-Auth-Token', admin).expect(200)).body.rows;
    const before = await report();
    expect(before.length).toBeGreaterThan(0);
    // Every idle connection of the pool is closed (pg-pool 3's own removal); the next request opens a new one.
    const pool = (t.runtime.dataSource.driver as unknown as { master: { _idle: { client: unknown }[]; _remove(client: unknown): void } }).master;
    for (const idle of [...pool._idle]) pool._remove(idle.client);
    expect(await report()).toEqual(before);
    expect(await report()).toEqual(before);
  });

  it("the report's text depends on its shape, never on its values", async () => {
    const texts: string[] = [];
    const capture = { query: async (text: string) => (texts.push(text), [{}]) } as never;
    const repo = new UsageReportRepository(capture);
    const base = marchQuery({ meters: ['instance.time'] });
    await repo.aggregate(base, capture);
    await repo.aggregate({ ...base, start: '2024-01-03T10:00:00Z', end: '2025-02-01T00:00:00Z', asOf: '2026-01-01T00:00:00Z', period: null, projects: ['p2', 'p3'], meters: ['volume.size'], limit: 3 }, capture);
    expect(texts[1]).toBe(texts[0]);
    // A filter given or not is a different shape (no `IS NULL OR` left for the planner).
    await repo.aggregate({ ...base, sites: ['cloud'] }, capture);
    expect(texts[2]).not.toBe(texts[0]);
    expect(texts.join('')).not.toMatch(/IS NULL OR/);
  });

  it('answers each call with its own values when one statement is run many times on one connection (generic plans)', async () => {
    const a = almanach(t, await t.token('service'));
    await a.createInstance('pa', 'ia', '2025-03-01T00:00:00Z', 'a');
    await a.createInstance('pb', 'ib', '2025-03-11T00:00:00Z', 'a');
    await a.deleteInstance('ib', '2025-03-12T06:00:00Z');
    await drainRollups(t);
    const admin = await t.token('reader');
    const hours = async (project: string, period: string) => {
      const res = await t.http.get(`/reports/usage?project_id=${project}&period=${period}&meter=instance.time&group_by=project_id`).set('X-Auth-Token', admin).expect(200);
      return res.body.totals.by_meter.map((m: { quantity_hours: string }) => m.quantity_hours);
    };
    // More than five runs of the same shape (PostgreSQL's threshold for trying a generic plan), alternating values.
    for (let round = 0; round < 4; round++) {
      expect(await hours('pa', '2025-03')).toEqual(['744.000000']);
      expect(await hours('pb', '2025-03')).toEqual(['30.000000']);
      expect(await hours('pb', '2025-04')).toEqual([]);
      expect(await hours('pa', '2025-04')).toEqual(['720.000000']);
    }
  });

  it('freshness counts pending cells within the given projects and sites only', async () => {
    const a = almanach(t, await t.token('service'));
    await a.createInstance('pf', 'if', '2025-05-01T00:00:00Z', 'a');
    await a.deleteInstance('if', '2025-05-03T00:00:00Z');
    const admin = await t.token('reader');
    const fresh = async (query: string) => {
      const res = await t.http.get(`/reports/usage?period=2025-05&${query}`).set('X-Auth-Token', admin).expect(200);
      return { complete: res.body.complete, pending_cells: res.body.pending_cells };
    };
    const site = t.runtime.config.cloudSite;
    // Not drained yet: May's days from the create on are pending (the create marked them while the instance was open).
    const pending = await fresh(`site=${site}`);
    expect(pending.complete).toBe(false);
    expect(pending.pending_cells).toBeGreaterThanOrEqual(2);
    expect(await fresh(`site=${site}&project_id=pf`)).toEqual(pending);
    expect(await fresh('project_id=pf')).toEqual(pending);
    expect(await fresh('site=elsewhere')).toEqual({ complete: true, pending_cells: 0 });
    expect(await fresh(`site=${site}&project_id=other`)).toEqual({ complete: true, pending_cells: 0 });
    await drainRollups(t);
    expect(await fresh(`site=${site}`)).toEqual({ complete: true, pending_cells: 0 });
  });
});
