import { Client } from 'pg';
import { ReportSpanBoundsInline1763802040000 } from '../../migrations/1763802040000-ReportSpanBoundsInline';
import { JobQueueService } from '../../src/queue/job-queue.service';
import { MetricsService } from '../../src/reports/ops/metrics.service';
import { ReportClockService } from '../../src/reports/clock/report-clock.service';
import { RollupDrainer } from '../../src/reports/rollups/rollup-drainer.service';
import { almanach, drainRollups } from '../support/reports';
import { ADMIN_TOKEN, realServers, useTestApp } from '../support/test-app';

/**
 * Dirty ranges (reports.md §7.2, issue 9): a change spanning more than 31
 * days writes one report_dirty_range row in the writer's transaction
 * instead of a key per day; the worker expands it into keys in chunks of
 * their own transaction. Through the front door: Almanach writes, usage
 * reports, the ops view, the consistency check.
 */
describe('reports rollups: dirty ranges for back-dated writes (reports.md §7.2)', () => {
  const t = useTestApp({ REPORT_TIME_ZONE: 'UTC' });
  // With Redis, the consistency check's jobs need a consumer (the in-process queue runs them itself).
  beforeAll(() => t.app.get(JobQueueService).startWorker());
  const db = () => t.runtime.dataSource;
  const ranges = async () =>
    db().query(`SELECT project_id, site, first_day::text AS first, last_day::text AS last FROM report_dirty_range ORDER BY project_id, first_day`) as Promise<
      { project_id: string; site: string; first: string; last: string }[]
    >;
  const keyCount = async () => Number((await db().query(`SELECT count(*)::int AS n FROM report_dirty_key`))[0].n);
  const day = (offset: number) => db().query(`SELECT (report_local_day(now(), 'UTC') + $1::int)::text AS d`, [offset]).then((r: { d: string }[]) => r[0].d);
  const usage = async (token: string, query: string) => (await t.http.get(`/reports/usage?${query}&limit=10000`).set('X-Auth-Token', token).expect(200)).body;
  const rowsOf = (body: { rows: { project_id?: string; period_start: string; meter: string; key: string; quantity: string }[] }) =>
    body.rows.map(({ period_start, meter, key, quantity }) => ({ period_start, meter, key, quantity }));

  async function check(body: Record<string, unknown>): Promise<Record<string, any>> {
    const res = await t.http.post('/admin/reports/consistency-checks').set('X-Auth-Token', ADMIN_TOKEN).send(body).expect(202);
    for (const deadline = Date.now() + 60_000; ; ) {
      const job = await t.http.get(`/admin/reports/jobs/${res.body.id}`).set('X-Auth-Token', ADMIN_TOKEN).expect(200);
      if (['succeeded', 'failed', 'cancelled'].includes(job.body.state)) {
        expect(job.body.state).toBe('succeeded');
        return job.body;
      }
      if (Date.now() > deadline) throw new Error(`job ${res.body.id} still ${job.body.state}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it('a write dated years back marks one range row, not thousands of keys; drained, its report equals a recent-dated equivalent', async () => {
    const a = almanach(t, await t.token('service'));
    const reader = await t.token('reader');
    const [{ booked }] = await db().query(`SELECT booked_day::text AS booked FROM report_clock`);
    // p2: the same instance dated 20 days back (20 days of keys, the key path).
    const recent = await day(-20);
    await a.createInstance('p2', 'recent', `${recent}T00:00:00Z`, 'm1.small');
    expect(await ranges()).toEqual([]);
    expect(await keyCount()).toBe(21);
    await drainRollups(t);
    const window = `start=${recent}&end=${booked}&granularity=day&group_by=key`;
    const expected = await usage(reader, `${window}&project_id=p2`);
    expect(expected).toMatchObject({ complete: true, pending_cells: 0 });
    expect(expected.rows.filter((r: { meter: string }) => r.meter === 'instance.time')).toHaveLength(20);

    // p1: created in 2016, back-dated by ~11 years (about 4,000 days).
    await a.createInstance('p1', 'old', '2016-01-01T00:00:00Z', 'm1.small');
    expect(await ranges()).toEqual([{ project_id: 'p1', site: 'cloud', first: '2016-01-01', last: booked }]);
    expect(await keyCount()).toBe(0);
    const pending = await usage(reader, `${window}&project_id=p1`);
    expect(pending).toMatchObject({ complete: false, pending_cells: 20 });
    await drainRollups(t);
    expect(await ranges()).toEqual([]);
    const after = await usage(reader, `${window}&project_id=p1`);
    expect(after).toMatchObject({ complete: true, pending_cells: 0, lag_seconds: 0 });
    expect(rowsOf(after)).toEqual(rowsOf(expected));
    // Its oldest days too: February 2016 has 29 days of 86,400 s.
    const feb = await usage(reader, `period=2016-02&project_id=p1&group_by=key`);
    expect(feb).toMatchObject({ complete: true, rows: [expect.objectContaining({ meter: 'instance.time', quantity: '2505600.000000' })] });
    // Every cell equals its recomputation from raw history (I1, I3).
    expect((await check({ start: '2016-01-01', end: '2017-01-01' })).result).toMatchObject({ mismatch_count: 0, skipped_dirty: 0 });
    expect((await check({ start: await day(-400), end: booked })).result).toMatchObject({ mismatch_count: 0, skipped_dirty: 0 });
  });

  it('a first start on stored history marks each project’s island of version spans as one range, and the rollups it builds are exact', async () => {
    const a = almanach(t, await t.token('service'));
    const reader = await t.token('reader');
    const [{ booked }] = await db().query(`SELECT booked_day::text AS booked FROM report_clock`);
    // History written while reports were on: built by the triggers, the reference.
    await a.createInstance('p1', 'i1', '2016-01-01T00:00:00Z', 'm1.small');
    await a.deleteInstance('i1', '2016-03-01T00:00:00Z');
    await a.createInstance('p1', 'i2', '2016-02-15T00:00:00Z', 'm1.small');
    await a.deleteInstance('i2', '2016-04-01T00:00:00Z');
    await a.createInstance('p1', 'i3', '2019-06-01T00:00:00Z', 'm1.small');
    await a.createInstance('p2', 'j1', `${await day(-3)}T00:00:00Z`, 'm1.small');
    await drainRollups(t);
    const windows = ['start=2016-01-01&end=2016-05-01&group_by=key', `start=2019-06-01&end=${booked}&group_by=key`, `start=${await day(-3)}&end=${booked}&group_by=key`];
    const expected = await Promise.all(windows.map(async (w) => rowsOf(await usage(reader, `${w}&project_id=p1`)).concat(rowsOf(await usage(reader, `${w}&project_id=p2`)))));

    // The same history found by a first start: no clock, no cell.
    for (const table of ['report_clock', 'report_usage_day_cell', 'report_usage_month_cell', 'report_usage_site_day_cell', 'report_usage_today_cell', 'report_rated_day_cell', 'report_rated_month_cell', 'report_rated_site_day_cell']) {
      await db().query(`DELETE FROM ${table}`);
    }
    await t.app.get(ReportClockService).ensure();
    expect(await ranges()).toEqual([
      { project_id: 'p1', site: 'cloud', first: '2016-01-01', last: '2016-03-31' },
      { project_id: 'p1', site: 'cloud', first: '2019-06-01', last: booked },
      { project_id: 'p2', site: 'cloud', first: await day(-3), last: booked },
    ]);
    expect(await keyCount()).toBe(0);
    await drainRollups(t);
    const rebuilt = await Promise.all(windows.map(async (w) => rowsOf(await usage(reader, `${w}&project_id=p1`)).concat(rowsOf(await usage(reader, `${w}&project_id=p2`)))));
    expect(rebuilt).toEqual(expected);
    expect(expected[0].length).toBeGreaterThan(0);
    expect((await check({ start: '2016-01-01', end: '2016-05-01' })).result).toMatchObject({ mismatch_count: 0, skipped_dirty: 0 });
  });

  it('ranges of one project that touch are merged when one is expanded: many back-dated writes expand their shared days once', async () => {
    const a = almanach(t, await t.token('service'));
    const [{ booked }] = await db().query(`SELECT booked_day::text AS booked FROM report_clock`);
    // 30 instances open since days of 2024: 30 ranges, each to the booked day.
    for (let i = 0; i < 30; i++) await a.createInstance('p1', `m-${i}`, `2024-0${1 + (i % 9)}-${String(1 + i).padStart(2, '0')}T00:00:00Z`, 'm1.small');
    expect((await ranges()).length).toBe(30);
    const [{ days }] = await db().query(`SELECT (max(last_day) - min(first_day) + 1)::int AS days FROM report_dirty_range`);
    // One expansion of 500 days takes the oldest range and every range touching it: one range is left, 500 days on.
    const [{ done }] = await db().query(`SELECT report_dirty_range_expand(500) AS done`);
    expect(done).toBe(500);
    expect(await ranges()).toEqual([{ project_id: 'p1', site: 'cloud', first: await db().query(`SELECT ('2024-01-01'::date + 500)::text AS d`).then((r: { d: string }[]) => r[0].d), last: booked }]);
    expect(await keyCount()).toBe(500);
    await drainRollups(t);
    const [{ cells }] = await db().query(`SELECT count(DISTINCT day)::int AS cells FROM report_usage_day_cell WHERE project_id = 'p1'`);
    expect(cells).toBe(days - 1); // every booked day of the union (the booked day itself is today's cell)
    expect((await check({ start: '2024-01-01', end: booked })).result).toMatchObject({ mismatch_count: 0, skipped_dirty: 0 });
  });

  it('an update spanning years (a version closed far back) marks ranges; short changes still mark keys', async () => {
    const a = almanach(t, await t.token('service'));
    const [{ booked }] = await db().query(`SELECT booked_day::text AS booked FROM report_clock`);
    const recent = await day(-3);
    await a.createInstance('p1', 'i1', `${recent}T00:00:00Z`, 'm1.small');
    await a.deleteInstance('i1', `${await day(-1)}T00:00:00Z`);
    expect(await ranges()).toEqual([]);
    expect(await keyCount()).toBe(4);
    await drainRollups(t);
    // A volume since 2019 resized in 2020: its creation marks from 2019 on; the resize closes the
    // first version at 2020-05-01 and opens the next there, each marking from 2020-05-01 on.
    await t.http.post('/v1/volume_type').set('X-Auth-Token', await t.token('service', { name: 'svc2' })).send({ type_id: 'ssd', type_name: 'ssd' }).expect(201);
    await a.createVolume('p1', 'v1', '2019-05-01T00:00:00Z', 10, 'ssd');
    await a.resizeVolume('v1', '2020-05-01T00:00:00Z', 20);
    const marked = await ranges();
    expect(marked[0]).toEqual({ project_id: 'p1', site: 'cloud', first: '2019-05-01', last: booked });
    expect(marked.length).toBeGreaterThanOrEqual(2);
    expect(marked.slice(1)).toEqual(marked.slice(1).map(() => ({ project_id: 'p1', site: 'cloud', first: '2020-05-01', last: booked })));
    expect(await keyCount()).toBe(0);
    await drainRollups(t);
    const reader = await t.token('reader');
    expect(await usage(reader, 'period=2020-04&project_id=p1&group_by=key')).toMatchObject({
      complete: true,
      rows: [expect.objectContaining({ meter: 'volume.size', key: 'ssd', quantity: String(10 * 30 * 86400) + '.000000' })],
    });
    expect(await usage(reader, 'period=2020-05&project_id=p1&group_by=key')).toMatchObject({
      complete: true,
      rows: [expect.objectContaining({ meter: 'volume.size', key: 'ssd', quantity: String(20 * 31 * 86400) + '.000000' })],
    });
    expect((await check({ start: '2019-05-01', end: recent })).result).toMatchObject({ mismatch_count: 0 });
  });

  it('freshness counts a range as pending (once per day, with keys of the same days) in reports, the ops view and the metrics', async () => {
    const a = almanach(t, await t.token('service'));
    const reader = await t.token('reader');
    const start = await day(-30);
    const today = await day(0);
    await a.createInstance('p1', 'old', '2018-03-01T00:00:00Z', 'm1.small');
    // A recent write of the same project marks keys inside the range: they are not counted twice.
    await a.createInstance('p1', 'new', `${await day(-5)}T00:00:00Z`, 'm1.small');
    expect(await keyCount()).toBe(6);
    const body = await usage(reader, `start=${start}&end=${today}`);
    expect(body).toMatchObject({ complete: false, pending_cells: 30 });
    expect(body.lag_seconds).toBeGreaterThanOrEqual(0);
    // A window before the range is complete; one that ends in it is not.
    expect(await usage(reader, 'period=2018-02')).toMatchObject({ complete: true, pending_cells: 0 });
    expect(await usage(reader, 'start=2018-02-20&end=2018-03-03')).toMatchObject({ complete: false, pending_cells: 2 });
    // Another project's scope is not held up.
    expect(await usage(reader, `start=${start}&end=${today}&project_id=p9`)).toMatchObject({ complete: true, pending_cells: 0 });

    // The ops view: D is every day of the range up to the booked day (the keys are among them).
    const [{ days }] = await db().query(`SELECT (booked_day - '2018-03-01'::date + 1)::int AS days FROM report_clock`);
    const ops = await t.http.get('/reports/ops/freshness').set('X-Auth-Token', reader).expect(200);
    expect(ops.body.rollup.dirty_keys).toBe(days);
    t.app.get(MetricsService).forgetCache();
    const metrics = await t.http.get('/metrics').expect(200);
    expect(metrics.text).toMatch(new RegExp(`^ledger_rollup_dirty_keys ${days}$`, 'm'));

    // The lag is the range's age: back-date its write by a minute.
    await db().query(`UPDATE report_dirty_range SET first_dirtied_at = now() - interval '61 seconds'`);
    expect((await usage(reader, `start=${start}&end=${today}`)).lag_seconds).toBeGreaterThanOrEqual(61);

    // Half expanded (one chunk of 100 days), the counts are the same: the days moved from the range to keys.
    await t.app.get(RollupDrainer).expandRanges(100);
    expect(await keyCount()).toBe(100 + 6);
    expect((await t.http.get('/reports/ops/freshness').set('X-Auth-Token', reader).expect(200)).body.rollup.dirty_keys).toBe(days);
    // Expanded keys keep the range's time.
    const [{ oldest }] = await db().query(`SELECT min(first_dirtied_at) < now() - interval '60 seconds' AS oldest FROM report_dirty_key`);
    expect(oldest).toBe(true);

    await drainRollups(t);
    expect(await usage(reader, `start=${start}&end=${today}`)).toMatchObject({ complete: true, pending_cells: 0, lag_seconds: 0 });
    expect((await t.http.get('/reports/ops/freshness').set('X-Auth-Token', reader).expect(200)).body.rollup).toMatchObject({ dirty_keys: 0, lag_seconds: 0 });
  });

  it('the consistency check skips the days of an undrained range (skipped_dirty)', async () => {
    const a = almanach(t, await t.token('service'));
    await a.createInstance('p1', 'i1', '2024-01-01T00:00:00Z', 'm1.small');
    await drainRollups(t);
    const full = (await check({ period: '2024-03' })).result;
    expect(full).toMatchObject({ mismatch_count: 0, skipped_dirty: 0 });
    // A day cell the worker owes: wrong, but its days are in a range, so skipped rather than reported.
    await db().query(`UPDATE report_usage_day_cell SET quantity = 1 WHERE day = '2024-03-10'`);
    await db().query(`INSERT INTO report_dirty_range (project_id, site, first_day, last_day) VALUES ('p1', 'cloud', '2024-03-09', '2024-03-11')`);
    // Another project's key and range make none of p1's other days dirty.
    await db().query(`INSERT INTO report_dirty_key (project_id, site, day) VALUES ('p9', 'cloud', '2024-03-20')`);
    await db().query(`INSERT INTO report_dirty_range (project_id, site, first_day, last_day) VALUES ('p9', 'cloud', '2024-03-21', '2024-03-25')`);
    const skipping = await check({ period: '2024-03' });
    // Three day cells, the month cell (a range in its month) and the site-day cells of the dirty days
    // (three of p1's range, one of p9's key and five of p9's range) are left out.
    expect(skipping.result).toMatchObject({ skipped_dirty: 3, mismatch_count: 0, cells_checked: full.cells_checked - 3 - 1 - 3 - 1 - 5 });
    // Without the range the same cell is a mismatch: the skip is the range's doing.
    await db().query(`DELETE FROM report_dirty_range`);
    await db().query(`DELETE FROM report_dirty_key`);
    expect((await check({ period: '2024-03' })).result).toMatchObject({ skipped_dirty: 0, mismatch_count: expect.any(Number) });
    expect((await check({ period: '2024-03' })).result.mismatch_count).toBeGreaterThan(0);
    await db().query(`INSERT INTO report_dirty_range (project_id, site, first_day, last_day) VALUES ('p1', 'cloud', '2024-03-09', '2024-03-11')`);
    await drainRollups(t);
    expect((await check({ period: '2024-03' })).result).toMatchObject({ mismatch_count: 0, skipped_dirty: 0, cells_checked: full.cells_checked });
  });

  it('a failure in the middle of an expansion loses nothing: the chunk rolls back, the range is as it was', async () => {
    const a = almanach(t, await t.token('service'));
    const reader = await t.token('reader');
    await a.createInstance('p1', 'i1', '2023-01-01T00:00:00Z', 'm1.small');
    const [before] = await ranges();
    const drainer = t.app.get(RollupDrainer);
    expect(await drainer.expandRanges(100)).toBe(100);
    expect(await ranges()).toEqual([{ ...before, first: '2023-04-11' }]);
    expect(await keyCount()).toBe(100);
    // The next chunk fails half-way through its keys (a key of 2023-06-01 cannot be written).
    await db().query(`CREATE FUNCTION test_fail_key() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.day = '2023-06-01' THEN RAISE EXCEPTION 'simulated failure'; END IF; RETURN NEW; END $$`);
    await db().query(`CREATE TRIGGER test_fail_key BEFORE INSERT ON report_dirty_key FOR EACH ROW EXECUTE FUNCTION test_fail_key()`);
    try {
      await expect(drainer.expandRanges(100)).rejects.toThrow('simulated failure');
      expect(await ranges()).toEqual([{ ...before, first: '2023-04-11' }]);
      expect(await keyCount()).toBe(100);
      // The worker's loop logs the failure and drains the keys it has; the range waits for the next tick.
      expect(await drainer.drainAll()).toBe(100);
      expect(await keyCount()).toBe(0);
      expect(await ranges()).toEqual([{ ...before, first: '2023-04-11' }]);
      // Meanwhile the report says it is incomplete.
      expect(await usage(reader, 'period=2023-06')).toMatchObject({ complete: false, pending_cells: 30 });
      expect(await usage(reader, 'period=2023-03')).toMatchObject({ complete: true, pending_cells: 0 });
    } finally {
      await db().query(`DROP TRIGGER test_fail_key ON report_dirty_key`);
      await db().query(`DROP FUNCTION test_fail_key()`);
    }
    await drainRollups(t);
    expect(await usage(reader, 'period=2023-06&group_by=key')).toMatchObject({
      complete: true,
      rows: [expect.objectContaining({ meter: 'instance.time', quantity: String(30 * 86400) + '.000000' })],
    });
    expect((await check({ start: '2023-01-01', end: '2023-12-31' })).result).toMatchObject({ mismatch_count: 0 });
  });

  const real = realServers.database ? it : it.skip;
  if (!realServers.database) console.log('the killed-worker dirty range test is skipped: it needs real PostgreSQL (set DATABASE_URL) for pg_terminate_backend');

  real('a worker killed mid-expansion (its backend terminated) loses nothing (PostgreSQL)', async () => {
    const a = almanach(t, await t.token('service'));
    await a.createInstance('p1', 'i1', '2022-01-01T00:00:00Z', 'm1.small');
    const [before] = await ranges();
    const worker = new Client({ connectionString: process.env.DATABASE_URL, application_name: 'dirty-range-worker' });
    const killer = new Client({ connectionString: process.env.DATABASE_URL, application_name: 'dirty-range-killer' });
    await worker.connect();
    await killer.connect();
    worker.on('error', () => undefined);
    try {
      await worker.query('BEGIN');
      expect((await worker.query('SELECT report_dirty_range_expand(300) AS n')).rows[0].n).toBe(300);
      // Expanded but not committed: another session sees the range whole and no key; a second worker skips the locked range.
      expect(await ranges()).toEqual([before]);
      expect(await keyCount()).toBe(0);
      expect(await t.app.get(RollupDrainer).expandRanges(300)).toBe(0);
      const { rows } = await killer.query(
        `SELECT count(*)::int AS n FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'dirty-range-worker') k`,
      );
      expect(rows[0].n).toBe(1);
      await expect(worker.query('COMMIT')).rejects.toThrow();
    } finally {
      await worker.end().catch(() => undefined);
      await killer.end();
    }
    expect(await ranges()).toEqual([before]);
    expect(await keyCount()).toBe(0);
    await drainRollups(t);
    expect((await check({ start: '2022-01-01', end: '2022-12-31' })).result).toMatchObject({ mismatch_count: 0 });
    const reader = await t.token('reader');
    expect(await usage(reader, 'period=2022-02&group_by=key')).toMatchObject({
      complete: true,
      rows: [expect.objectContaining({ meter: 'instance.time', quantity: String(28 * 86400) + '.000000' })],
    });
  });

  real('a writer never waits for a drain holding its key: the day it could not lock is dirty through a range, and drains to the exact figure (PostgreSQL)', async () => {
    const a = almanach(t, await t.token('service'));
    const today = await day(0);
    const created = new Date(Date.now() - 2 * 86_400_000).toISOString();
    await a.createInstance('p1', 'i1', created, 'm1.small');
    await drainRollups(t);
    // A drain's batch as the drainer holds it: today's key taken FOR UPDATE in a transaction left open.
    await db().query(`INSERT INTO report_dirty_key (project_id, site, day) VALUES ('p1', 'cloud', $1)`, [today]);
    const drain = new Client({ connectionString: process.env.DATABASE_URL, application_name: 'held-key-drain' });
    await drain.connect();
    try {
      await drain.query('BEGIN');
      expect((await drain.query(`SELECT day FROM report_dirty_key WHERE project_id = 'p1' FOR UPDATE SKIP LOCKED`)).rows).toHaveLength(1);
      // The resize answers while the drain still holds the key (before the fix it waited for the drain's commit: this call never returned).
      await a.resizeInstance('i1', new Date().toISOString(), 'm1.large');
      // One range per statement of the resize (the old version closed, the new one inserted), each of today alone.
      const held = await ranges();
      expect(held.length).toBeGreaterThan(0);
      expect([...new Set(held.map((r) => JSON.stringify(r)))]).toEqual([JSON.stringify({ project_id: 'p1', site: 'cloud', first: today, last: today })]);
      // The drain finishes as drains do: it deletes the key it took, on a snapshot older than the resize.
      await drain.query(`DELETE FROM report_dirty_key WHERE project_id = 'p1' AND day = $1`, [today]);
      await drain.query('COMMIT');
    } finally {
      await drain.end();
    }
    // Still dirty after the drain deleted its key: through the range (or the key a worker expanded it into since).
    const [{ n }] = await db().query(
      `SELECT (SELECT count(*) FROM report_dirty_key WHERE project_id = 'p1' AND day = $1)
            + (SELECT count(*) FROM report_dirty_range WHERE project_id = 'p1' AND first_day <= $1 AND last_day >= $1) AS n`,
      [today],
    );
    expect(Number(n)).toBeGreaterThan(0);
    await drainRollups(t);
    const reader = await t.token('reader');
    const body = await usage(reader, `project_id=p1&start=${created.slice(0, 10)}&end=${today}&group_by=key`);
    expect(body.complete).toBe(true);
    expect(body.rows.map((r: { key: string }) => r.key)).toEqual(['m1.small']);
    const todayRows = await usage(reader, `project_id=p1&period=${today}&group_by=key`);
    expect(todayRows.rows.map((r: { key: string }) => r.key)).toEqual(['m1.large', 'm1.small']);
    expect((await check({ start: created.slice(0, 10), end: today })).result).toMatchObject({ mismatch_count: 0 });
  });

  real('an expansion never waits for a drain either: a day whose key a drain holds goes back to a range dirty since the same time (PostgreSQL)', async () => {
    const [first, held, last] = [await day(-3), await day(-1), await day(0)];
    await db().query(`INSERT INTO report_dirty_key (project_id, site, day) VALUES ('p1', 'cloud', $1)`, [held]);
    await db().query(
      `INSERT INTO report_dirty_range (project_id, site, first_day, last_day, first_dirtied_at) VALUES ('p1', 'cloud', $1, $2, now() - interval '5 minutes')`,
      [first, last],
    );
    const drain = new Client({ connectionString: process.env.DATABASE_URL, application_name: 'held-key-drain' });
    await drain.connect();
    try {
      await drain.query('BEGIN');
      expect((await drain.query(`SELECT day FROM report_dirty_key WHERE project_id = 'p1' FOR UPDATE SKIP LOCKED`)).rows).toHaveLength(1);
      // Answers while the drain holds one of its days (before, it waited for the drain's commit: this call never returned).
      const [{ n }] = await db().query(`SELECT report_dirty_range_expand(500) AS n`);
      expect(n).toBe(3);
      expect(await ranges()).toEqual([{ project_id: 'p1', site: 'cloud', first: held, last: held }]);
      const [{ since }] = await db().query(`SELECT first_dirtied_at < now() - interval '4 minutes' AS since FROM report_dirty_range`);
      expect(since).toBe(true);
      await drain.query(`DELETE FROM report_dirty_key WHERE project_id = 'p1' AND day = $1`, [held]);
      await drain.query('COMMIT');
    } finally {
      await drain.end();
    }
    // Every day of the range is still dirty: three keys, and the held day through its range.
    expect((await db().query(`SELECT day::text AS day FROM report_dirty_key ORDER BY day`)).map((r: { day: string }) => r.day)).toEqual([first, await day(-2), last]);
    expect(await ranges()).toEqual([{ project_id: 'p1', site: 'cloud', first: held, last: held }]);
    const [{ lagged }] = await db().query(`SELECT min(first_dirtied_at) < now() - interval '4 minutes' AS lagged FROM report_dirty_key`);
    expect(lagged).toBe(true);
  });

  it('report_span_bounds is inlined into its caller (migration 1763802040000) and answers what the function before it did', async () => {
    const migration = new ReportSpanBoundsInline1763802040000();
    // Spans across a fall-back and a spring-forward day (Havana's 03:15Z is 23:15 local the day before), open,
    // infinite, empty, and ending after the booked day.
    const spans = `(VALUES ('2009-10-31T12:00:00Z'::timestamptz, '2009-11-01T03:15:00Z'::timestamptz, 'America/Havana', '2030-01-01'::date),
        ('2024-03-09T23:00:00Z', '2024-03-10T08:00:00Z', 'America/New_York', '2030-01-01'),
        ('2024-03-31T00:30:00Z', NULL, 'Europe/Berlin', '2024-05-01'),
        ('2024-01-01T00:00:00Z', 'infinity', 'UTC', '2024-02-01'),
        ('2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z', 'Asia/Kolkata', '2030-01-01'),
        ('2024-01-01T00:00:00Z', '2026-06-01T00:00:00Z', 'UTC', '2025-01-01')) AS s(a, b, tz, booked)`;
    const answers = () =>
      db().query(`SELECT b.lo::text, b.hi::text FROM ${spans} CROSS JOIN LATERAL report_span_bounds(s.a, s.b, s.tz, s.booked) AS b`) as Promise<{ lo: string; hi: string }[]>;
    const scansFunction = async () => {
      const plan = await db().query(`EXPLAIN SELECT b.lo FROM ${spans} CROSS JOIN LATERAL report_span_bounds(s.a, s.b, s.tz, s.booked) AS b`);
      return plan.some((row: { 'QUERY PLAN': string }) => row['QUERY PLAN'].includes('Function Scan on report_span_bounds'));
    };
    const inlined = await answers();
    expect(inlined).toEqual([
      { lo: '2009-10-31', hi: '2009-10-31' },
      { lo: '2024-03-09', hi: '2024-03-10' },
      { lo: '2024-03-31', hi: '2024-05-01' },
      { lo: '2024-01-01', hi: '2024-02-01' },
      { lo: '2024-01-01', hi: '2024-01-01' },
      { lo: '2024-01-01', hi: '2025-01-01' },
    ]);
    expect(await scansFunction()).toBe(false);
    await db().transaction(async (m) => migration.down(m.queryRunner!));
    try {
      expect(await scansFunction()).toBe(true);
      expect(await answers()).toEqual(inlined);
    } finally {
      await db().transaction(async (m) => migration.up(m.queryRunner!));
    }
    expect(await scansFunction()).toBe(false);
  });
});
