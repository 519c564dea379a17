import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ConfigError } from '../../src/config/env.schema';
import { ReportClockService } from '../../src/reports/clock/report-clock.service';
import { RollupDrainer, TODAY_SETTLE_MAX_MS, todaySettleMs } from '../../src/reports/rollups/rollup-drainer.service';
import { ReportsLoops } from '../../src/reports/rollups/reports-loops.service';
import { almanach, drainRollups } from '../support/reports';
import { startTestApp, useTestApp } from '../support/test-app';
import { buildDist } from '../support/processes';

describe('reports rollups: dirty keys and cells (reports.md §7.1–7.2)', () => {
  const t = useTestApp({ REPORT_TIME_ZONE: 'UTC' });
  const cells = async () =>
    t.runtime.dataSource.query(
      `SELECT project_id, site, day::text AS day, meter, key, subkey, quantity::text AS quantity, items FROM report_usage_day_cell ORDER BY day, meter, key`,
    );

  it('marks the days of a version dirty in the write transaction and turns them into exact day cells', async () => {
    const service = await t.token('service');
    const a = almanach(t, service);
    const db = t.runtime.dataSource;
    // Open since 2025-03-01: more than 31 days, so one range row up to the booked day, not a key per day.
    await a.createInstance('p1', 'i1', '2025-03-01T00:00:00Z', 'a');
    const [{ booked }] = await db.query(`SELECT booked_day::text AS booked FROM report_clock`);
    expect(await db.query(`SELECT project_id, site, first_day::text AS first, last_day::text AS last FROM report_dirty_range`)).toEqual([
      { project_id: 'p1', site: 'cloud', first: '2025-03-01', last: booked },
    ]);
    expect((await db.query(`SELECT count(*)::int AS n FROM report_dirty_key`))[0].n).toBe(0);
    await a.resizeInstance('i1', '2025-03-10T12:00:00.500Z', 'b');
    await a.deleteInstance('i1', '2025-03-20T00:00:00Z');
    await drainRollups(t);
    expect((await db.query(`SELECT (SELECT count(*)::int FROM report_dirty_key) + (SELECT count(*)::int FROM report_dirty_range) AS n`))[0].n).toBe(0);
    const rows: { day: string; key: string; quantity: string }[] = await cells();
    const march10 = rows.filter((r) => r.day === '2025-03-10');
    expect(march10).toEqual([
      expect.objectContaining({ key: 'a', quantity: '43200.500000', items: 1 }),
      expect.objectContaining({ key: 'b', quantity: '43199.500000', items: 1 }),
    ]);
    expect(rows.filter((r) => r.day >= '2025-03-20')).toEqual([]);
    const month = await t.runtime.dataSource.query(
      `SELECT key, quantity::text AS quantity, cells FROM report_usage_month_cell WHERE project_id = 'p1' ORDER BY key`,
    );
    expect(month).toEqual([
      { key: 'a', quantity: '820800.500000', cells: 10 },
      { key: 'b', quantity: '820799.500000', cells: 10 },
    ]);
    const site = await t.runtime.dataSource.query(`SELECT sum(quantity)::text AS q FROM report_usage_site_day_cell WHERE site = 'cloud'`);
    expect(site[0].q).toBe('1641600.000000');
  });

  it('claims onward from where the last full batch ended, takes a key left behind once it reaches the end, and a day at every site at once', async () => {
    const db = t.runtime.dataSource;
    const drainer = t.app.get(RollupDrainer);
    await db.query(`INSERT INTO report_clock (id, time_zone, cloud_site, booked_day) VALUES (1, 'UTC', 'cloud', report_local_day(now(), 'UTC')) ON CONFLICT (id) DO NOTHING`);
    const dirty = async () => (await db.query(`SELECT project_id || ' ' || day AS k FROM report_dirty_key ORDER BY first_dirtied_at, project_id, day, site`)).map((r: { k: string }) => r.k);
    await db.query(
      `INSERT INTO report_dirty_key (project_id, site, day, first_dirtied_at)
       SELECT 'p' || i, 'cloud', date '2025-01-01', timestamptz '2025-06-01T00:00:00Z' + make_interval(secs => i) FROM generate_series(1, 5) AS i`,
    );
    // A full batch (2 of 2) leaves the claim at p2; a key older than p2 written now (a transaction that began before
    // and committed after) is behind it.
    expect(await drainer.drainBatch(2)).toBe(2);
    await db.query(`INSERT INTO report_dirty_key (project_id, site, day, first_dirtied_at) VALUES ('p0', 'cloud', '2025-01-01', '2025-05-01T00:00:00Z')`);
    expect(await dirty()).toEqual(['p0 2025-01-01', 'p3 2025-01-01', 'p4 2025-01-01', 'p5 2025-01-01']);
    expect(await drainer.drainBatch(2)).toBe(2);
    expect(await dirty()).toEqual(['p0 2025-01-01', 'p5 2025-01-01']);
    // One left after p4: fewer than asked, the end; the next claim starts from the oldest and takes p0.
    expect(await drainer.drainBatch(2)).toBe(1);
    expect(await dirty()).toEqual(['p0 2025-01-01']);
    expect(await drainer.drainBatch(2)).toBe(1);
    expect(await dirty()).toEqual([]);
    // Nothing after the position but a key behind it: the claim starts from the oldest at once (0 would stop a drain loop).
    await db.query(`INSERT INTO report_dirty_key (project_id, site, day, first_dirtied_at) VALUES ('r1', 'cloud', '2025-01-01', '2025-07-01T00:00:00Z'), ('r2', 'cloud', '2025-01-01', '2025-07-01T00:00:01Z')`);
    expect(await drainer.drainBatch(2)).toBe(2);
    await db.query(`INSERT INTO report_dirty_key (project_id, site, day, first_dirtied_at) VALUES ('r0', 'cloud', '2025-01-01', '2025-05-01T00:00:00Z')`);
    expect(await drainer.drainBatch(2)).toBe(1);
    expect(await dirty()).toEqual([]);
    // A project's keys of one day at its several sites are claimed together (another drain would wait on their
    // (project, day) lock otherwise): two of two take two sites' January 2 and then its third site, not the 3rd.
    await db.query(
      `INSERT INTO report_dirty_key (project_id, site, day, first_dirtied_at)
       SELECT 'q', s, d, '2025-06-01T00:00:00Z' FROM unnest(ARRAY['amie-a', 'amie-b', 'cloud']) AS s, unnest(ARRAY[date '2025-01-02', date '2025-01-03']) AS d`,
    );
    expect(await drainer.drainBatch(2)).toBe(3);
    expect(await db.query(`SELECT site, day::text AS day FROM report_dirty_key ORDER BY site`)).toEqual([
      { site: 'amie-a', day: '2025-01-03' },
      { site: 'amie-b', day: '2025-01-03' },
      { site: 'cloud', day: '2025-01-03' },
    ]);
  });

  it("lets the booked day's keys settle when asked (the loop), never a booked day's, and drains them all without", async () => {
    const db = t.runtime.dataSource;
    const drainer = t.app.get(RollupDrainer);
    await db.query(`INSERT INTO report_clock (id, time_zone, cloud_site, booked_day) VALUES (1, 'UTC', 'cloud', report_local_day(now(), 'UTC')) ON CONFLICT (id) DO NOTHING`);
    await drainer.drainAll();
    const [{ booked }] = await db.query(`SELECT booked_day::text AS booked FROM report_clock WHERE id = 1`);
    await db.query(
      `INSERT INTO report_dirty_key (project_id, site, day, first_dirtied_at) VALUES
         ('settle-young', 'cloud', $1::date, now()),
         ('settle-old', 'cloud', $1::date, now() - interval '10 minutes'),
         ('settle-booked', 'cloud', $1::date - 3, now())`,
      [booked],
    );
    const dirty = async () => (await db.query(`SELECT project_id FROM report_dirty_key ORDER BY project_id`)).map((r: { project_id: string }) => r.project_id);
    // A minute's settle: the booked day's key dirtied now waits; the one dirty for ten minutes and a booked day's do not.
    expect(await drainer.drainAll(undefined, () => 60_000)).toBe(2);
    expect(await dirty()).toEqual(['settle-young']);
    expect(await drainer.drainBatch(500, 60_000)).toBe(0);
    expect(await drainer.drainAll()).toBe(1);
    expect(await dirty()).toEqual([]);
  });

  it('settles today\'s keys for three times the last recomputation of today cells, at most 30 s', () => {
    expect(todaySettleMs(0)).toBe(0);
    expect(todaySettleMs(2600)).toBe(7800);
    expect(todaySettleMs(10_000)).toBe(TODAY_SETTLE_MAX_MS);
    expect(TODAY_SETTLE_MAX_MS).toBe(30_000);
  });

  it('rolls the booked day forward after midnight, booking the finished days and opening today (§7.2 day roll)', async () => {
    const a = almanach(t, await t.token('service'));
    const db = t.runtime.dataSource;
    const [{ today }] = await db.query(`SELECT report_local_day(now(), 'UTC')::text AS today`);
    // As if the service had been stopped for three days: the booked day is behind.
    await db.query(`UPDATE report_clock SET booked_day = booked_day - 3`);
    await a.createInstance('p1', 'i1', '2025-01-01T00:00:00Z', 'a');
    await drainRollups(t);
    const [{ behind }] = await db.query(`SELECT booked_day::text AS behind FROM report_clock`);
    expect(await db.query(`SELECT day::text AS day, open_weight::text AS w FROM report_usage_today_cell`)).toEqual([{ day: behind, w: '1' }]);
    const stale = await t.http.get(`/reports/usage?start=${behind}&end=${today}`).set('X-Auth-Token', await t.token('reader')).expect(200);
    expect(stale.body.complete).toBe(false);

    await t.app.get(ReportsLoops).rollDays();
    expect(await db.query(`SELECT booked_day::text AS d FROM report_clock`)).toEqual([{ d: today }]);
    expect((await db.query(`SELECT count(*)::int AS n FROM report_dirty_key`))[0].n).toBe(4);
    await drainRollups(t);
    expect(await db.query(`SELECT day::text AS day FROM report_usage_today_cell`)).toEqual([{ day: today }]);
    const booked = await db.query(`SELECT day::text AS day, quantity::text AS q FROM report_usage_day_cell WHERE day >= $1 ORDER BY day`, [behind]);
    expect(booked).toEqual([0, 1, 2].map((i) => ({ day: addDays(behind, i), q: '86400.000000' })));
    const fresh = await t.http.get(`/reports/usage?start=${behind}&end=${today}`).set('X-Auth-Token', await t.token('reader', { name: 'r2' })).expect(200);
    expect(fresh.body).toMatchObject({ complete: true, rows: [expect.objectContaining({ quantity: String(3 * 86400) + '.000000' })] });
  });

  it('refuses a REPORT_TIME_ZONE or CLOUD_SITE other than the ones recorded at the first start, naming the variable', async () => {
    await t.runtime.dataSource.query(`UPDATE report_clock SET time_zone = 'Europe/Berlin'`);
    const clock = t.app.get(ReportClockService);
    await expect(clock.ensure()).rejects.toThrow(ConfigError);
    await expect(clock.ensure()).rejects.toThrow(/^REPORT_TIME_ZONE is UTC, but this database's reports were cut in Europe\/Berlin/);
    await t.runtime.dataSource.query(`UPDATE report_clock SET time_zone = 'UTC', cloud_site = 'region-2'`);
    await expect(clock.ensure()).rejects.toThrow(/^CLOUD_SITE is cloud, but .* carry region-2/);
  });

  it('stops a process whose REPORT_TIME_ZONE PostgreSQL does not know with exit status 2', async () => {
    await expect(startTestApp({ REPORT_TIME_ZONE: 'Mars/Olympus_Mons' })).rejects.toThrow('REPORT_TIME_ZONE: Mars/Olympus_Mons is not a time zone PostgreSQL knows');
    buildDist();
    const root = join(__dirname, '..', '..');
    const run = spawnSync(process.execPath, [join(root, 'dist', 'src', 'main.js')], {
      env: { PATH: process.env.PATH, DATA_DIR: 'memory://', PORT: '39999', LOG_LEVEL: 'silent', REPORT_TIME_ZONE: 'Mars/Olympus_Mons' },
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 2, stderr: 'usage-ledger: REPORT_TIME_ZONE: Mars/Olympus_Mons is not a time zone PostgreSQL knows (see pg_timezone_names)\n' });
  }, 300_000);
});

function addDays(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}
