import { DataSource } from 'typeorm';

/**
 * Tables kept by another table's triggers, reset with it: the Almanach
 * version tally (64 slots of zero) by the history's TRUNCATE trigger. Left
 * alone when the history is not truncated, where its counts are zero already.
 */
const KEPT_BY_TRIGGERS = ['almanach_version_tally'];

/**
 * Empties the database between tests as `TRUNCATE <every table> RESTART
 * IDENTITY CASCADE` would, truncating only the tables that need it: those
 * holding a row, and those whose identity or serial sequence has handed out
 * a value (a test may count on ids starting at 1 again). Every table was
 * half a second of TRUNCATE per test on PostgreSQL, most of it for tables
 * the test never wrote. Partitions are left to their parent (a TRUNCATE of
 * the parent empties them and fires the parent's own TRUNCATE triggers,
 * such as the Almanach version tally's reset).
 *
 * A worker still loading the previous test's batch writes the AMIE tables
 * and, through the reports triggers, the dirty keys: TRUNCATE's locks can
 * then deadlock with it, and PostgreSQL aborts one side. The truncate is
 * tried again; the worker's job retries on its own. Rows such a worker
 * commits while this runs are caught by looking again after each truncate.
 */
export async function emptyDatabase(db: DataSource): Promise<void> {
  const tables: { name: string }[] = await db.query(
    `SELECT c.relname AS name FROM pg_class c
     WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
       AND c.relname <> 'schema_migration' AND NOT (c.relname = ANY ($1))
     ORDER BY 1`,
    [KEPT_BY_TRIGGERS],
  );
  // Until a look finds nothing to empty: a job of the previous test that
  // read a table truncated here (a pending AMIE batch, say) made TRUNCATE wait
  // for its commit, and what it wrote to a table not yet in the list shows in
  // the next look.
  for (let pass = 1; ; pass++) {
    const used = await tablesToEmpty(db, tables.map((t) => t.name));
    if (used.length === 0) return;
    if (pass > 20) throw new Error(`tables still written to after ${pass - 1} truncates: ${used.join(', ')}`);
    try {
      await db.query(`TRUNCATE ${used.map((t) => `"${t}"`).join(', ')} RESTART IDENTITY CASCADE`);
    } catch (error) {
      if ((error as { code?: string }).code !== '40P01') throw error;
      // Let the other side finish before trying again (the reports loops retry their batch on their own).
      await new Promise((r) => setTimeout(r, 50 * pass));
    }
  }
}

/** The tables of `names` with a row, being written by another transaction, or with a sequence of theirs that has handed out a value. */
async function tablesToEmpty(db: DataSource, names: string[]): Promise<string[]> {
  const withRows: { name: string }[] = await db.query(
    names.map((n) => `SELECT '${n}' AS name WHERE EXISTS (SELECT 1 FROM "${n}")`).join(' UNION ALL '),
  );
  const withSequences: { name: string }[] = await db.query(
    `SELECT DISTINCT t.relname AS name
     FROM pg_class s
     JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
     JOIN pg_class t ON t.oid = d.refobjid
     JOIN pg_sequences q ON q.schemaname = current_schema() AND q.sequencename = s.relname
     WHERE s.relkind = 'S' AND s.relnamespace = current_schema()::regnamespace AND q.last_value IS NOT NULL`,
  );
  // A transaction still writing a table (its rows not visible yet) holds RowExclusiveLock or stronger on it:
  // the TRUNCATE waits for its commit and empties what it wrote.
  const beingWritten: { name: string }[] = await db.query(
    `SELECT DISTINCT c.relname AS name FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
     WHERE l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND l.pid <> pg_backend_pid()
       AND l.mode IN ('RowExclusiveLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock')
       AND c.relnamespace = current_schema()::regnamespace`,
  );
  const wanted = new Set(names);
  return [...new Set([...withRows, ...withSequences, ...beingWritten].map((r) => r.name))].filter((n) => wanted.has(n)).sort();
}
