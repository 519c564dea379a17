import { AddressInfo } from 'node:net';
import { compute, createSite, startUsageApp, waitLoaded } from '../support/amie';
import { runCli } from '../support/cli';
import { buildDist } from '../support/processes';
import { almanach, drainRollups } from '../support/reports';
import { ADMIN_TOKEN, TestApp } from '../support/test-app';

/**
 * The consistency check (reports.md 7.5, §13 item 19) through the front
 * door: history written through the Almanach and AMIE APIs, rollups drained
 * by the worker's code, then `POST /admin/reports/consistency-checks` and its
 * job; a cell altered by hand is an I1 mismatch, `repair` marks it dirty and
 * the drain fixes it; `rebuild` marks the window's keys dirty. The operator
 * CLI runs as a child process against the listening app.
 */

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe('consistency check (/admin/reports/consistency-checks)', () => {
  let t: TestApp;
  let url: string;

  beforeAll(async () => {
    // The CLI runs the compiled code.
    buildDist();
    t = await startUsageApp({ REPORT_TIME_ZONE: 'UTC', CLOUD_SITE: 'cloud' });
    await t.app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
  }, 300_000);
  afterAll(async () => {
    await t?.close();
  });

  const db = () => t.runtime.dataSource;
  const admin = {
    get: (path: string) => t.http.get(path).set('X-Auth-Token', ADMIN_TOKEN),
    post: (path: string, body?: unknown) => t.http.post(path).set('X-Auth-Token', ADMIN_TOKEN).send(body as object),
  };

  async function settled(id: string): Promise<Record<string, any>> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const res = await admin.get(`/admin/reports/jobs/${id}`).expect(200);
      if (['succeeded', 'failed', 'cancelled'].includes(res.body.state)) return res.body;
      if (Date.now() > deadline) throw new Error(`job ${id} still ${res.body.state}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async function check(body: Record<string, unknown>): Promise<Record<string, any>> {
    const res = await admin.post('/admin/reports/consistency-checks', body).expect(202);
    expect(res.headers.location).toBe(`/admin/reports/jobs/${res.body.id}`);
    const job = await settled(res.body.id);
    expect(job.state).toBe('succeeded');
    return job;
  }

  const dirtyKeys = async () =>
    (await db().query(`SELECT project_id, site, day::text AS day FROM report_dirty_key ORDER BY 1, 2, 3`)) as { project_id: string; site: string; day: string }[];

  /**
   * Changes a day cell as a faulty rollup worker would: the month and
   * site-day sums move with it (I3 still holds), so only I1 can see it, and
   * the normal path (mark dirty, drain) repairs all three. `null` removes the
   * cell; a cell that does not exist is created.
   */
  async function corruptDayCell(k: { project_id: string; site: string; day: string; meter: string; key: string; subkey?: string }, quantity: string | null, items = 1) {
    const key = [k.project_id, k.site, k.day, k.meter, k.key, k.subkey ?? ''];
    const [old] = await db().query(
      `SELECT quantity::text AS quantity FROM report_usage_day_cell WHERE project_id = $1 AND site = $2 AND day = $3 AND meter = $4 AND key = $5 AND subkey = $6`,
      key,
    );
    const delta = `(${quantity ?? 0}::numeric - ${old?.quantity ?? 0}::numeric)`;
    const cells = (quantity === null ? 0 : 1) - (old ? 1 : 0);
    await db().query(`DELETE FROM report_usage_day_cell WHERE project_id = $1 AND site = $2 AND day = $3 AND meter = $4 AND key = $5 AND subkey = $6`, key);
    if (quantity !== null) {
      await db().query(`INSERT INTO report_usage_day_cell (project_id, site, day, meter, key, subkey, quantity, items, summed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $7)`, [
        ...key,
        quantity,
        items,
      ]);
    }
    await db().query(
      `INSERT INTO report_usage_month_cell AS m (project_id, site, month, meter, key, subkey, quantity, cells)
       VALUES ($1, $2, date_trunc('month', $3::date)::date, $4, $5, $6, ${delta}, $7)
       ON CONFLICT (project_id, site, month, meter, key, subkey) DO UPDATE SET quantity = m.quantity + excluded.quantity, cells = m.cells + excluded.cells`,
      [...key, cells],
    );
    await db().query(
      `INSERT INTO report_usage_site_day_cell AS s (site, day, meter, key, subkey, quantity, cells) VALUES ($1, $2, $3, $4, $5, ${delta}, $6)
       ON CONFLICT (site, day, meter, key, subkey) DO UPDATE SET quantity = s.quantity + excluded.quantity, cells = s.cells + excluded.cells`,
      [...key.slice(1), cells],
    );
    await db().query(`DELETE FROM report_usage_month_cell WHERE cells = 0`);
    await db().query(`DELETE FROM report_usage_site_day_cell WHERE cells = 0`);
  }

  /** Three projects: an instance resized mid-day (p1), a volume (p2), AMIE compute records at another site (p3). */
  async function seed(): Promise<void> {
    await t.reset();
    const service = await t.token('service');
    const a = almanach(t, service);
    await t.http.post('/v1/volume_type').set('X-Auth-Token', service).send({ type_id: 'ssd', type_name: 'ssd' }).expect(201);
    await a.createInstance('p1', 'i1', '2025-03-01T00:00:00Z', 'a');
    await a.resizeInstance('i1', '2025-03-10T12:00:00.500Z', 'b');
    await a.deleteInstance('i1', '2025-03-20T00:00:00Z');
    await a.createVolume('p2', 'v1', '2025-03-05T00:00:00Z', 100, 'ssd');
    await a.deleteVolume('v1', '2025-03-15T00:00:00Z');
    const site = await createSite(t, 'hpc-a');
    const records = [1, 2].map((i) =>
      compute(`c${i}`, { LocalProjectID: 'p3', SubmitTime: '2025-03-12T09:00:00Z', StartTime: '2025-03-12T10:00:00Z', EndTime: `2025-03-12T1${i}:30:00Z` }),
    );
    await t.http.post('/amie/usage').set(site.headers).send({ UsageType: 'Compute', Records: records }).expect(200);
    await waitLoaded(t);
    await drainRollups(t);
    expect(await dirtyKeys()).toEqual([]);
  }

  describe('checking', () => {
    beforeAll(seed, 120_000);

    it('finds no mismatch after the rollups are built, and says what it checked', async () => {
      const cells: { n: number }[] = await db().query(`SELECT count(*)::int AS n FROM report_usage_day_cell WHERE day >= '2025-03-01' AND day < '2025-04-01'`);
      expect(cells[0].n).toBe(20 + 10 + 3);
      const res = await admin.post('/admin/reports/consistency-checks', { start: '2025-03-01', end: '2025-04-01', reason: 'after import' }).expect(202);
      expect(res.body).toMatchObject({
        id: expect.stringMatching(/^job_/),
        kind: 'consistency_check',
        state: 'queued',
        reason: 'after import',
        created_by: 'admin',
        scope: {
          start: '2025-03-01T00:00:00.000Z',
          end: '2025-04-01T00:00:00.000Z',
          first_day: '2025-03-01',
          end_day: '2025-04-01',
          time_zone: 'UTC',
          project_ids: null,
          sample: null,
          repair: false,
          rebuild: false,
        },
        progress: { total: null, done: 0 },
      });
      const job = await settled(res.body.id);
      // I1: 33 day cells; I3: 6 month cells (p1 a and b, p2 ssd, p3's three meters) and 33 site-day cells.
      expect(job).toMatchObject({
        state: 'succeeded',
        started_at: expect.stringMatching(ISO),
        finished_at: expect.stringMatching(ISO),
        progress: { total: 3 * 31, done: 3 * 31, ratio: '1.000000', eta_seconds: 0 },
        result: { cells_checked: 33 + 6 + 33, skipped_dirty: 0, skipped_detached: 0, mismatches: [], mismatch_count: 0 },
        error: null,
      });
      expect(job.result.keys_repaired).toBeUndefined();
    });

    it('reports a cell altered by hand as an I1 mismatch with the stored and recomputed values, and a missing and a phantom cell too', async () => {
      await corruptDayCell({ project_id: 'p1', site: 'cloud', day: '2025-03-10', meter: 'instance.time', key: 'a' }, '43201.500000');
      await corruptDayCell({ project_id: 'p2', site: 'cloud', day: '2025-03-07', meter: 'volume.size', key: 'ssd' }, null);
      await corruptDayCell({ project_id: 'p4', site: 'cloud', day: '2025-03-02', meter: 'volume.size', key: 'hdd' }, '5');
      try {
        const job = await check({ period: '2025-03' });
        expect(job.progress.total).toBe(4 * 31);
        expect(job.result).toEqual({
          // I1: 33 + p4's phantom; I3: 7 month cells, 33 site-day cells (one gone, one phantom).
          cells_checked: 34 + 7 + 33,
          skipped_dirty: 0,
          skipped_detached: 0,
          mismatch_count: 3,
          mismatches: [
            { invariant: 'I1', project_id: 'p1', site: 'cloud', day: '2025-03-10', meter: 'instance.time', key: 'a', subkey: '', stored: '43201.500000', recomputed: '43200.500000', stored_items: 1, recomputed_items: 1 },
            { invariant: 'I1', project_id: 'p2', site: 'cloud', day: '2025-03-07', meter: 'volume.size', key: 'ssd', subkey: '', stored: '0', recomputed: '8640000.000000', stored_items: 0, recomputed_items: 1 },
            { invariant: 'I1', project_id: 'p4', site: 'cloud', day: '2025-03-02', meter: 'volume.size', key: 'hdd', subkey: '', stored: '5', recomputed: '0', stored_items: 1, recomputed_items: 0 },
          ],
        });
        // A check writes nothing.
        expect(await dirtyKeys()).toEqual([]);

        // project_ids narrows the scope: p2 alone has one mismatch over 31 project-days.
        const p2 = await check({ start: '2025-03-01', end: '2025-04-01', project_ids: ['p2', 'p2'] });
        expect(p2.scope.project_ids).toEqual(['p2']);
        expect(p2.progress).toMatchObject({ total: 31, done: 31 });
        // One project: its month cell, no site-day cells (they sum every project).
        expect(p2.result).toMatchObject({ cells_checked: 10 + 1, mismatch_count: 1, mismatches: [expect.objectContaining({ project_id: 'p2', day: '2025-03-07' })] });

        // A key in report_dirty_key is skipped (the worker owes it), not reported.
        await db().query(`INSERT INTO report_dirty_key (project_id, site, day) VALUES ('p1', 'cloud', '2025-03-10')`);
        const skipping = await check({ period: '2025-03', project_ids: ['p1'] });
        // p1's month cells are left out too: a key of their month is dirty.
        expect(skipping.result).toMatchObject({ skipped_dirty: 1, mismatch_count: 0, cells_checked: 20 - 2 });
      } finally {
        await db().query(
          `INSERT INTO report_dirty_key (project_id, site, day) VALUES ('p1', 'cloud', '2025-03-10'), ('p2', 'cloud', '2025-03-07'), ('p4', 'cloud', '2025-03-02') ON CONFLICT DO NOTHING`,
        );
        await drainRollups(t);
      }
      expect((await check({ period: '2025-03' })).result.mismatch_count).toBe(0);
    });

    it('repair marks each mismatched key dirty; the drain fixes it and the next check finds nothing', async () => {
      await corruptDayCell({ project_id: 'p3', site: 'hpc-a', day: '2025-03-12', meter: 'amie.charge', key: 'cluster-a', subkey: 'compute' }, '7', 3);
      await corruptDayCell({ project_id: 'p3', site: 'hpc-a', day: '2025-03-12', meter: 'amie.node_time', key: 'cluster-a', subkey: 'compute' }, '1');
      const repaired = await check({ period: '2025-03', repair: true });
      expect(repaired.result).toMatchObject({ mismatch_count: 2, keys_repaired: 1 });
      expect(repaired.result.mismatches).toEqual([
        expect.objectContaining({ project_id: 'p3', site: 'hpc-a', meter: 'amie.charge', key: 'cluster-a', subkey: 'compute', stored: '7', recomputed: '21.0', stored_items: 3, recomputed_items: 2 }),
        expect.objectContaining({ project_id: 'p3', site: 'hpc-a', meter: 'amie.node_time', stored: '1' }),
      ]);
      expect(await dirtyKeys()).toEqual([{ project_id: 'p3', site: 'hpc-a', day: '2025-03-12' }]);
      await drainRollups(t);
      expect((await check({ period: '2025-03' })).result).toMatchObject({ mismatch_count: 0, cells_checked: 72 });
    });

    it('§13.19 a day cell edited by hand (its sums untouched) is an I1 mismatch; repair and a drain mend it and its sums', async () => {
      await db().query(`UPDATE report_usage_day_cell SET quantity = quantity + 5 WHERE project_id = 'p2' AND day = '2025-03-07'`);
      const plain = await check({ period: '2025-03' });
      expect(plain.result.mismatches).toEqual([
        expect.objectContaining({ invariant: 'I1', project_id: 'p2', day: '2025-03-07', stored: '8640005.000000', recomputed: '8640000.000000' }),
        expect.objectContaining({ invariant: 'I3', cell: 'month', project_id: 'p2', stored: '86400000.000000', recomputed: '86400005.000000' }),
        expect.objectContaining({ invariant: 'I3', cell: 'site_day', day: '2025-03-07', stored: '8640000.000000', recomputed: '8640005.000000' }),
      ]);
      // With repair the I1 key is dirty at once, so its sums are skipped (dirty) by the same job.
      const found = await check({ period: '2025-03', repair: true });
      expect(found.result).toMatchObject({ mismatch_count: 1, keys_repaired: 1, mismatches: [expect.objectContaining({ invariant: 'I1', day: '2025-03-07' })] });
      await drainRollups(t);
      expect((await check({ period: '2025-03' })).result).toMatchObject({ mismatch_count: 0, cells_checked: 72 });
    });

    it('reports a month or site-day cell that is not the sum of its day cells as an I3 mismatch', async () => {
      await db().query(`UPDATE report_usage_month_cell SET quantity = quantity - 100 WHERE project_id = 'p2'`);
      await db().query(`UPDATE report_usage_site_day_cell SET cells = 2 WHERE site = 'hpc-a'  AND meter = 'amie.charge'`);
      try {
        // A project filter checks that project's month cells, and no site-day cell.
        expect((await check({ period: '2025-03', project_ids: ['p2'] })).result).toMatchObject({ mismatch_count: 1, mismatches: [expect.objectContaining({ cell: 'month' })] });
        const job = await check({ period: '2025-03', repair: true });
        expect(job.result).toMatchObject({
          cells_checked: 72,
          mismatch_count: 2,
          // One dirty key of the month mends its month sum; a site-day sum is left to the operator.
          keys_repaired: 1,
          mismatches: [
            { invariant: 'I3', cell: 'month', project_id: 'p2', site: 'cloud', day: '2025-03-01', meter: 'volume.size', key: 'ssd', subkey: '', stored: '86399900.000000', recomputed: '86400000.000000', stored_items: 10, recomputed_items: 10 },
            { invariant: 'I3', cell: 'site_day', project_id: null, site: 'hpc-a', day: '2025-03-12', meter: 'amie.charge', key: 'cluster-a', subkey: 'compute', stored: '21.0', recomputed: '21.0', stored_items: 2, recomputed_items: 1 },
          ],
        });
        expect(await dirtyKeys()).toEqual([{ project_id: 'p2', site: 'cloud', day: '2025-03-01' }]);
        await drainRollups(t);
        expect((await check({ period: '2025-03' })).result).toMatchObject({ mismatch_count: 1, mismatches: [expect.objectContaining({ cell: 'site_day' })] });
      } finally {
        await db().query(`UPDATE report_usage_site_day_cell SET cells = 1 WHERE site = 'hpc-a' AND meter = 'amie.charge'`);
      }
      expect((await check({ period: '2025-03' })).result.mismatch_count).toBe(0);
    });

    it('checks only booked days: the current day belongs to the today cell', async () => {
      const today = (await db().query(`SELECT booked_day::text AS d FROM report_clock`))[0].d as string;
      const tomorrow = new Date(Date.parse(`${today}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
      const yesterday = new Date(Date.parse(`${today}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
      const a = almanach(t, await t.token('service'));
      await a.createInstance('p9', 'i9', `${yesterday}T12:00:00Z`, 'a');
      await drainRollups(t);
      const job = await check({ start: yesterday, end: tomorrow });
      // p9 on yesterday only: today is not checked by I1 (one day cell, its month cell and site-day cell).
      expect(job.progress).toMatchObject({ total: 1, done: 1 });
      expect(job.result).toMatchObject({ cells_checked: 3, mismatch_count: 0 });
    });

    it('samples n random project-days with data', async () => {
      const job = await check({ period: '2025-03', sample: 5 });
      expect(job.progress).toMatchObject({ total: 5, done: 5 });
      expect(job.result.mismatch_count).toBe(0);
      expect(job.result.cells_checked).toBeGreaterThanOrEqual(5);
      const all = await check({ period: '2025-03', sample: 1000 });
      // Only 19 + 10 + 1 project-days of March have data.
      expect(all.progress).toMatchObject({ total: 30, done: 30 });
      expect(all.result.cells_checked).toBe(33);
    });

    it('rebuild checks nothing and marks every key of the scope dirty', async () => {
      const job = await check({ start: '2025-03-05', end: '2025-03-12', rebuild: true });
      expect(job.result).toEqual({ keys_marked: 7 + 7 });
      const keys = await dirtyKeys();
      expect(keys).toHaveLength(14);
      expect(new Set(keys.map((k) => k.project_id))).toEqual(new Set(['p1', 'p2']));
      await drainRollups(t);
      expect((await check({ period: '2025-03' })).result.mismatch_count).toBe(0);
    });

    it('succeeds at once with nothing to do when no project has data in the window', async () => {
      const job = await check({ period: '2024' });
      expect(job).toMatchObject({ progress: { total: 0, done: 0, ratio: '1.000000' }, result: { cells_checked: 0, mismatch_count: 0 } });
    });
  });

  describe('validation and roles', () => {
    it.each([
      [{}, 'start: required (or period)'],
      [{ start: '2025-03-01' }, 'end: required with start'],
      [{ end: '2025-03-01' }, 'start: required (or period)'],
      [{ start: '2025-03-01', end: '2025-04-01', period: '2025-03' }, 'start: not with period'],
      [{ start: '2025-03-01T00:00:00Z', end: '2025-04-01' }, 'start: must be a day YYYY-MM-DD'],
      [{ start: '2025-02-30', end: '2025-04-01' }, 'start: must be a day YYYY-MM-DD'],
      [{ start: '2025-03-01', end: '2025-03-01' }, 'end: must be later than start'],
      [{ start: '2000-01-01', end: '2025-01-01' }, 'end: the window may cover at most 3660 days'],
      [{ period: '2025-13' }, 'period: must be YYYY, YYYY-MM or YYYY-MM-DD'],
      [{ period: 202503 }, 'period: must be YYYY, YYYY-MM or YYYY-MM-DD'],
      [{ period: '2025-03', project_ids: [] }, 'project_ids: must name at least one project (leave it out for all)'],
      [{ period: '2025-03', project_ids: ['p1', 7] }, 'project_ids: must be a list of project ids'],
      [{ period: '2025-03', sample: 0 }, 'sample: must be a whole number from 1 to 100000'],
      [{ period: '2025-03', sample: '5' }, 'sample: must be a whole number from 1 to 100000'],
      [{ period: '2025-03', repair: 'yes' }, 'repair: must be true or false'],
      [{ period: '2025-03', rebuild: true, sample: 5 }, 'rebuild: not with sample'],
      [{ period: '2025-03', colour: 'red' }, 'colour: not a known field'],
    ])('answers 400 for %j: %s', async (body, error) => {
      const res = await admin.post('/admin/reports/consistency-checks', body).expect(400);
      expect(res.body.error).toBe(error);
      const [field, rule] = error.split(': ');
      expect(res.body.fields).toEqual(expect.objectContaining({ [field]: rule }));
      expect((await admin.get('/admin/reports/jobs').expect(200)).body.jobs.filter((j: { state: string }) => j.state === 'queued')).toEqual([]);
    });

    it('answers 400 without a body and 415 for a body that is not JSON', async () => {
      const none = await t.http.post('/admin/reports/consistency-checks').set('X-Auth-Token', ADMIN_TOKEN).expect(400);
      expect(none.body).toEqual({ error: expect.any(String) });
      await t.http.post('/admin/reports/consistency-checks').set('X-Auth-Token', ADMIN_TOKEN).set('Content-Type', 'text/plain').send('period=2025-03').expect(415);
    });

    it('answers 401 without a token and 403 to every role but admin', async () => {
      await t.http.post('/admin/reports/consistency-checks').send({ period: '2025-03' }).expect(401);
      for (const role of ['reader', 'service', 'user'] as const) {
        const token = await t.token(role, { projectIds: ['p1'] });
        const res = await t.http.post('/admin/reports/consistency-checks').set('X-Auth-Token', token).send({ period: '2025-03' });
        expect({ role, status: res.status }).toEqual({ role, status: 403 });
      }
    });
  });

  describe('the usage-ledger CLI', () => {
    beforeAll(seed, 120_000);

    const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { env });
    const connection = () => ['--url', url, '--token', ADMIN_TOKEN];

    it('exits 1 on a mismatch, repairs it with --repair, then exits 0', async () => {
      await corruptDayCell({ project_id: 'p1', site: 'cloud', day: '2025-03-15', meter: 'instance.time', key: 'b' }, '172800.000000');
      const found = await cli(['reports', 'check', '--from', '2025-03-01', '--to', '2025-03-31', '--json', ...connection()]);
      expect(found).toMatchObject({ code: 1, stderr: '' });
      const job = JSON.parse(found.stdout);
      expect(job).toMatchObject({ kind: 'consistency_check', state: 'succeeded', scope: { first_day: '2025-03-01', end_day: '2025-04-01' } });
      expect(job.result).toMatchObject({
        mismatch_count: 1,
        mismatches: [expect.objectContaining({ invariant: 'I1', project_id: 'p1', day: '2025-03-15', stored: '172800.000000', recomputed: '86400.000000' })],
      });

      // A table on stdout without --json (the progress bar is for terminals only).
      const table = await cli(['reports', 'check', '--from', '2025-03-15', '--to', '2025-03-15', '--project', 'p1', '--project', 'p2', '--repair', ...connection()]);
      expect(table.code).toBe(1);
      // p2's volume ended at the start of the 15th: one day cell; then p2's month cell (p1's are left
      // out: the repair has just made a key of their month dirty).
      expect(table.stdout).toMatch(/cells checked\s+2\b/);
      expect(table.stdout).toMatch(/mismatches\s+1\b/);
      expect(table.stdout).toMatch(/keys marked dirty \(repair\)\s+1\b/);
      expect(table.stdout).toMatch(/I1\s+p1\s+cloud\s+2025-03-15\s+instance\.time\s+b\s+172800\.000000\s+86400\.000000/);
      expect(await dirtyKeys()).toEqual([{ project_id: 'p1', site: 'cloud', day: '2025-03-15' }]);

      await drainRollups(t);
      const clean = await cli(['reports', 'check', '--from', '2025-03-01', '--to', '2025-03-31', '--json'], { LEDGER_URL: url, LEDGER_TOKEN: ADMIN_TOKEN });
      expect(clean.code).toBe(0);
      expect(JSON.parse(clean.stdout).result).toMatchObject({ mismatch_count: 0, cells_checked: 72 });
    });

    it('rebuild marks the keys of the window dirty and exits 0', async () => {
      const res = await cli(['reports', 'rebuild', '--from', '2025-03-12', '--to', '2025-03-12', ...connection()]);
      expect(res.code).toBe(0);
      expect(res.stdout).toMatch(/keys marked dirty\s+3\b/);
      expect(await dirtyKeys()).toHaveLength(3);
      await drainRollups(t);
    });

    it.each([
      [['reports', 'check', '--from', '2025-02-30', '--to', '2025-03-01'], /--from must be a day YYYY-MM-DD/],
      [['reports', 'check', '--from', '2025-03-05', '--to', '2025-03-01'], /--to must not be before --from/],
      [['reports', 'check', '--to', '2025-03-01'], /--from/],
      [['reports', 'check', '--from', '2025-03-01', '--to', '2025-03-02', '--sample', 'x'], /--sample/],
      [['reports', 'check', '--from', '2025-03-01', '--to', '2025-03-02', '--colour', 'red'], /unknown option/],
      [['reports', 'frobnicate'], /unknown command/],
      [['reports'], /Usage/],
    ])('exits 2 on a bad argument: %j', async (args, message) => {
      const res = await cli([...args, ...connection()]);
      expect(res.code).toBe(2);
      expect(res.stderr).toMatch(message);
      expect(res.stdout).toBe('');
    });

    it('exits 2 without a token, when the service cannot be reached, and on an HTTP error with the server\'s message', async () => {
      const noToken = await cli(['reports', 'check', '--from', '2025-03-01', '--to', '2025-03-02', '--url', url]);
      expect(noToken).toMatchObject({ code: 2, stderr: expect.stringContaining('--token (or LEDGER_TOKEN) is required') });
      // A port nothing listens on: this one, once the probe server closed.
      const probe = require('node:net').createServer();
      await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
      const port = (probe.address() as AddressInfo).port;
      await new Promise((r) => probe.close(r));
      const down = await cli(['reports', 'check', '--from', '2025-03-01', '--to', '2025-03-02', '--url', `http://127.0.0.1:${port}`, '--token', ADMIN_TOKEN]);
      expect(down).toMatchObject({ code: 2, stderr: expect.stringContaining(`cannot reach the service at http://127.0.0.1:${port}: ECONNREFUSED`) });
      const reader = await t.token('reader');
      const refused = await cli(['reports', 'check', '--from', '2025-03-01', '--to', '2025-03-02', '--json', '--url', url, '--token', reader]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/POST \/admin\/reports\/consistency-checks: 403 \S/);
      expect(refused.stdout).toBe('');
      const tooLong = await cli(['reports', 'check', '--from', '2000-01-01', '--to', '2025-01-01', ...connection()]);
      expect(tooLong).toMatchObject({ code: 2, stderr: expect.stringContaining('400 end: the window may cover at most 3660 days') });
    });

    it('exits 2 when the job fails', async () => {
      // A clock row the check cannot use: the job fails at planning, after its attempts.
      await db().query(`UPDATE report_clock SET time_zone = 'Not/AZone'`);
      try {
        const res = await cli(['reports', 'check', '--from', '2025-03-01', '--to', '2025-03-02', '--json', ...connection()]);
        expect(res.code).toBe(2);
      } finally {
        await db().query(`UPDATE report_clock SET time_zone = 'UTC'`);
      }
    });
  });
});
