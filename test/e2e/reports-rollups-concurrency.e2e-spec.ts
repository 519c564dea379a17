import { randomUUID } from 'node:crypto';
import { almanach, drainRollups } from '../support/reports';
import { useTestApp } from '../support/test-app';
import { buildDist, distEnv, startBuilt, WatchedProcess } from '../support/processes';

/**
 * Two worker processes draining the same dirty keys and expanding the same
 * dirty ranges together produce the same cells as one drain alone
 * (reports.md §7.2: FOR UPDATE SKIP LOCKED on keys and ranges,
 * per-(project, day) advisory locks, month and site-day sums by delta in key
 * order). Both workers are up before the work is there, and the test
 * sees both at work at once (two database sessions holding drain advisory
 * locks at the same moment: a worker drains one batch at a time). Needs
 * PostgreSQL and Redis: the processes share them.
 */
const real = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL);
const maybe = real ? describe : describe.skip;
if (!real) console.log('reports-rollups-concurrency: skipped, it needs DATABASE_URL and REDIS_URL (real worker processes share them)');

const CELL_TABLES = {
  day: `SELECT project_id, site, day::text, meter, key, subkey, quantity::text, items FROM report_usage_day_cell ORDER BY 1, 2, 3, 4, 5, 6`,
  today: `SELECT project_id, site, day::text, meter, key, subkey, closed_part::text, open_weight::text, open_anchor::text, items FROM report_usage_today_cell ORDER BY 1, 2, 3, 4, 5, 6`,
  month: `SELECT project_id, site, month::text, meter, key, subkey, quantity::text, cells FROM report_usage_month_cell ORDER BY 1, 2, 3, 4, 5, 6`,
  siteDay: `SELECT site, day::text, meter, key, subkey, quantity::text, cells FROM report_usage_site_day_cell ORDER BY 1, 2, 3, 4, 5`,
};

maybe('reports rollups: two worker processes drain like one (real processes)', () => {
  const prefix = `test-rollups-${randomUUID()}`;
  const t = useTestApp({ REPORT_TIME_ZONE: 'Europe/Berlin', QUEUE_PREFIX: prefix }, { dropQueueKeys: true });
  const children: WatchedProcess[] = [];

  beforeAll(() => {
    buildDist();
  }, 300_000);
  afterEach(async () => {
    for (const child of children.splice(0)) await child.stop();
  });

  it('ends with the same day, today, month and site-day cells', async () => {
    const a = almanach(t, await t.token('service'));
    // Enough work to outlast the second worker's idle wake-up (1 s): 24 projects, about 2 s of drain for two workers on
    // this machine (2026-12-04; the 6 projects before drained in under a second, and the second worker found nothing).
    for (let i = 0; i < 144; i++) {
      const project = `p${i % 24}`;
      await a.createInstance(project, `i${i}`, `2025-0${1 + (i % 9)}-1${i % 10}T0${i % 10}:15:00.250Z`, `f${i % 4}`);
      if (i % 3 === 0) await a.resizeInstance(`i${i}`, `2025-10-0${1 + (i % 9)}T12:00:00Z`, 'big');
      if (i % 4 === 0) await a.deleteInstance(`i${i}`, `2025-11-2${i % 10}T00:00:00Z`);
    }
    const db = t.runtime.dataSource;
    const keys: { project_id: string; site: string; day: string }[] = await db.query(`SELECT project_id, site, day::text AS day FROM report_dirty_key`);
    // Spans of more than 31 days are dirty ranges (§7.2), which the workers expand into keys as they go.
    const ranges: { project_id: string; site: string; first_day: string; last_day: string }[] = await db.query(
      `SELECT project_id, site, first_day::text AS first_day, last_day::text AS last_day FROM report_dirty_range`,
    );
    expect(ranges.length).toBeGreaterThan(10);
    const [{ days }] = await db.query(`SELECT coalesce(sum(last_day - first_day + 1), 0)::int AS days FROM report_dirty_range`);
    expect(keys.length + days).toBeGreaterThan(2000);
    await drainRollups(t);
    const alone: Record<string, unknown[]> = {};
    for (const [name, sql] of Object.entries(CELL_TABLES)) alone[name] = await db.query(sql);
    expect(alone.day.length).toBeGreaterThan(1000);

    // The same work again, from nothing, for two worker processes, both up before it is there.
    await db.query(`TRUNCATE report_usage_day_cell, report_usage_today_cell, report_usage_month_cell, report_usage_site_day_cell`);
    for (let i = 0; i < 2; i++) {
      children.push(startBuilt('worker', distEnv({ DATABASE_URL: process.env.DATABASE_URL, REDIS_URL: process.env.REDIS_URL, QUEUE_PREFIX: prefix, REPORT_TIME_ZONE: 'Europe/Berlin', LOG_LEVEL: 'info' })));
    }
    await Promise.all(children.map((child) => child.waitForLine(/worker ready/)));
    await db.transaction(async (tx) => {
      await tx.query(`INSERT INTO report_dirty_key (project_id, site, day) SELECT * FROM unnest($1::text[], $2::text[], $3::date[])`, [
        keys.map((k) => k.project_id),
        keys.map((k) => k.site),
        keys.map((k) => k.day),
      ]);
      await tx.query(`INSERT INTO report_dirty_range (project_id, site, first_day, last_day) SELECT * FROM unnest($1::text[], $2::text[], $3::date[], $4::date[])`, [
        ranges.map((r) => r.project_id),
        ranges.map((r) => r.site),
        ranges.map((r) => r.first_day),
        ranges.map((r) => r.last_day),
      ]);
    });
    const deadline = Date.now() + 120_000;
    // The most database sessions seen inside a drain transaction at one moment: holding its advisory locks (§7.2's
    // per-(project, day) and month locks) or its claim of dirty keys (FOR UPDATE: RowShareLock, then the DELETE:
    // RowExclusiveLock, both to the transaction's end; no other writer touches the table in this phase, and counts
    // and reads take AccessShareLock). The claim spans the whole batch, so an overlap of the two workers is seen
    // however short their advisory locks are (sampling those alone once missed it in CI on a loaded machine).
    let together = 0;
    for (;;) {
      const [{ n, holders }] = await db.query(
        `SELECT (SELECT count(*)::int FROM report_dirty_key) + (SELECT count(*)::int FROM report_dirty_range) AS n,
                (SELECT count(DISTINCT pid)::int FROM pg_locks
                  WHERE granted AND pid <> pg_backend_pid() AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                    AND (locktype = 'advisory' OR (relation = 'report_dirty_key'::regclass AND mode IN ('RowShareLock', 'RowExclusiveLock')))) AS holders`,
      );
      together = Math.max(together, holders);
      if (n === 0) break;
      if (Date.now() > deadline) throw new Error(`${n} dirty keys and ranges left after 120 s`);
      for (const child of children) if (child.child.exitCode !== null) throw new Error(`a worker exited with ${child.child.exitCode}: ${child.stderr()}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(together).toBeGreaterThanOrEqual(2);
    for (const [name, sql] of Object.entries(CELL_TABLES)) expect({ name, cells: await db.query(sql) }).toEqual({ name, cells: alone[name] });
  }, 300_000);
});
