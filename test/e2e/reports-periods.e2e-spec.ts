import { compute, createSite, startUsageApp, waitLoaded } from '../support/amie';
import { parseCsv } from '../support/csv';
import { almanach, drainRollups } from '../support/reports';
import { ADMIN_TOKEN, APP_START_TIMEOUT_MS, TestApp } from '../support/test-app';
import { ClosePeriodHandler, CLOSE_WAIT_SECONDS } from '../../src/reports/rating/periods/close-period.handler';

/**
 * Periods and adjustment lines (reports.md 5.2, 5.3, 3.1 `view`/`lines`,
 * 3.4, I5 of 7.4, §13 item 13) through the front door: history written
 * through the Almanach and AMIE APIs, the rollups drained by the worker's
 * code, `POST /admin/reports/periods/{YYYY-MM}/close` and its close_period
 * job, then late writes into the closed month and what /reports/usage
 * answers about them.
 */

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
/** The current month of the accounting zone (UTC here): where late corrections are posted. */
const currentMonth = () => new Date().toISOString().slice(0, 7);

type Row = Record<string, any>;

describe('periods and adjustment lines (reports.md 5.2, 5.3)', () => {
  let t: TestApp;
  let reader: string;
  let service: string;

  beforeAll(async () => {
    t = await startUsageApp({ REPORT_TIME_ZONE: 'UTC', CLOUD_SITE: 'cloud' });
  }, APP_START_TIMEOUT_MS);
  afterAll(async () => {
    await t?.close();
  });
  beforeEach(async () => {
    await t.reset();
    t.app.get(ClosePeriodHandler, { strict: false }).maxWaitSeconds = CLOSE_WAIT_SECONDS;
    reader = await t.token('reader');
    service = await t.token('service');
  });

  const admin = {
    get: (path: string) => t.http.get(path).set('X-Auth-Token', ADMIN_TOKEN),
    post: (path: string) => t.http.post(path).set('X-Auth-Token', ADMIN_TOKEN),
  };
  const usage = async (query: string, token = reader): Promise<Row> => (await t.http.get(`/reports/usage?${query}`).set('X-Auth-Token', token).expect(200)).body;

  async function job(id: string): Promise<Row> {
    return (await admin.get(`/admin/reports/jobs/${id}`).expect(200)).body;
  }

  async function settled(id: string, timeoutMs = 30_000): Promise<Row> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const body = await job(id);
      if (['succeeded', 'failed', 'cancelled'].includes(body.state)) return body;
      if (Date.now() > deadline) throw new Error(`job ${id} still ${body.state} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Waits until the job has planned and run at least one chunk that waited (it is resting between its looks). */
  async function waiting(id: string): Promise<Row> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const body = await job(id);
      if (body.state === 'running' && body.progress.total !== null) return body;
      if (Date.now() > deadline) throw new Error(`job ${id} never started waiting (${body.state})`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async function period(label: string): Promise<Row> {
    const res = await t.http.get('/reports/periods').set('X-Auth-Token', reader).expect(200);
    const found = res.body.periods.find((p: Row) => p.period === label);
    if (!found) throw new Error(`period ${label} is not listed`);
    return found;
  }

  /** Closes a period through the route and waits for its job; answers the job. */
  async function close(label: string): Promise<Row> {
    const res = await admin.post(`/admin/reports/periods/${label}/close`).expect(202);
    expect(res.headers.location).toBe(`/admin/reports/jobs/${res.body.id}`);
    const done = await settled(res.body.id);
    expect(done.state).toBe('succeeded');
    return done;
  }

  /** p1: an instance over 2025-03-01 … 2025-03-20 (flavor a); p2: a 100 GB ssd volume 2025-03-05 … 2025-03-15. */
  async function seed(): Promise<void> {
    const a = almanach(t, service);
    await t.http.post('/v1/volume_type').set('X-Auth-Token', service).send({ type_id: 'ssd', type_name: 'ssd' }).expect(201);
    await a.createInstance('p1', 'i1', '2025-03-01T00:00:00Z', 'a');
    await a.deleteInstance('i1', '2025-03-20T00:00:00Z');
    await a.createVolume('p2', 'v1', '2025-03-05T00:00:00Z', 100, 'ssd');
    await a.deleteVolume('v1', '2025-03-15T00:00:00Z');
    await drainRollups(t);
  }

  /** The rows of a report as (project, meter, key, line, applies) → quantity. */
  const byCell = (body: Row) =>
    Object.fromEntries(body.rows.map((r: Row) => [[r.project_id, r.meter, r.key, r.subkey, r.line_type, r.applies_to_period].join('|'), r.quantity]));

  describe('POST /admin/reports/periods/{period}/close', () => {
    it('answers 202 with a close_period job (Location), which waits for nothing pending, freezes the month and closes it', async () => {
      await seed();
      const res = await admin.post('/admin/reports/periods/2025-03/close').expect(202);
      expect(res.headers.location).toBe(`/admin/reports/jobs/${res.body.id}`);
      expect(res.body).toMatchObject({ id: expect.stringMatching(/^job_/), kind: 'close_period', state: 'queued', created_by: 'admin', scope: { period: '2025-03' } });
      const done = await settled(res.body.id);
      expect(done).toMatchObject({
        state: 'succeeded',
        progress: { total: 31, done: 31, ratio: '1.000000', eta_seconds: 0 },
        result: { pending_at_snapshot: 0, timed_out: false, usage_cells_frozen: expect.any(Number), rated_cells_frozen: 0 },
      });
      // One usage cell per day and key: 19 instance days and 10 volume days.
      expect(done.result.usage_cells_frozen).toBe(29);
      const march = await period('2025-03');
      expect(march).toEqual({
        period: '2025-03',
        start: '2025-03-01T00:00:00.000Z',
        end: '2025-04-01T00:00:00.000Z',
        state: 'closed',
        closed_at: expect.stringMatching(ISO),
        closed_by: 'admin',
        auto_close_at: null,
      });
      expect(Date.parse(march.closed_at)).toBeGreaterThanOrEqual(Date.parse(done.started_at));
      // The neighbours are untouched; automatic close is off (PERIOD_AUTO_CLOSE_DAYS=0).
      expect(await period('2025-04')).toMatchObject({ state: 'open', closed_at: null, closed_by: null, auto_close_at: null });
      // Closed is final: a second close is 409.
      const again = await admin.post('/admin/reports/periods/2025-03/close').expect(409);
      expect(again.body).toEqual({ error: 'period 2025-03 is already closed' });
    });

    it('refuses a period that has not ended (409), a malformed period (400), and callers that are not admin', async () => {
      const now = currentMonth();
      expect((await admin.post(`/admin/reports/periods/${now}/close`).expect(409)).body).toEqual({
        error: expect.stringMatching(new RegExp(`^period ${now} has not ended yet \\(it ends at \\d{4}-\\d\\d-01T00:00:00\\.000Z\\)$`)),
      });
      expect((await admin.post('/admin/reports/periods/2999-01/close').expect(409)).body.error).toMatch(/^period 2999-01 has not ended yet/);
      for (const bad of ['2025-3', '2025-13', '2025-00', '202503', 'march', '2025-03-01']) {
        const res = await admin.post(`/admin/reports/periods/${bad}/close`).expect(400);
        expect(res.body).toEqual({ error: 'period: must be a month YYYY-MM', fields: { period: 'must be a month YYYY-MM' } });
      }
      await t.http.post('/admin/reports/periods/2025-03/close').expect(401);
      await t.http.post('/admin/reports/periods/2025-03/close').set('X-Auth-Token', reader).expect(403);
      await t.http.post('/admin/reports/periods/2025-03/close').set('X-Auth-Token', service).expect(403);
      // Nothing was started.
      expect((await admin.get('/admin/reports/jobs?kind=close_period').expect(200)).body.jobs).toEqual([]);
      expect(await period(now)).toMatchObject({ state: 'open' });
    });

    it('is closing while a key of the period is pending (409 to a second close); cancelled before its snapshot, the period is open again', async () => {
      await seed();
      // A late write not yet drained: the close job waits for it.
      await almanach(t, service).createInstance('p1', 'i2', '2025-03-10T00:00:00Z', 'a');
      const res = await admin.post('/admin/reports/periods/2025-03/close').expect(202);
      const running = await waiting(res.body.id);
      expect(running.progress).toMatchObject({ total: 31, done: 0 });
      expect(await period('2025-03')).toMatchObject({ state: 'closing', closed_at: null, closed_by: null });
      expect((await admin.post('/admin/reports/periods/2025-03/close').expect(409)).body).toEqual({ error: 'period 2025-03 is already closing' });

      await admin.post(`/admin/reports/jobs/${res.body.id}/cancel`).expect(200);
      expect((await settled(res.body.id)).state).toBe('cancelled');
      expect(await period('2025-03')).toMatchObject({ state: 'open', closed_at: null });
      const [{ n }] = await t.runtime.dataSource.query(`SELECT count(*)::int AS n FROM report_closed_cell`);
      expect(n).toBe(0);

      // It can be closed again; this time the job waits until the drain has run, then freezes the drained cells.
      const second = await admin.post('/admin/reports/periods/2025-03/close').expect(202);
      await waiting(second.body.id);
      await drainRollups(t);
      const done = await settled(second.body.id);
      expect(done.result).toMatchObject({ pending_at_snapshot: 0, timed_out: false });
      expect(await period('2025-03')).toMatchObject({ state: 'closed', closed_by: 'admin' });
      // The late instance was drained before the snapshot: frozen, and no adjustment.
      const closed = await usage('period=2025-03&project_id=p1&meter=instance.time');
      const live = await usage('period=2025-03&project_id=p1&meter=instance.time&view=live');
      expect(closed.rows).toEqual(live.rows);
      expect((await usage('period=2025-03&lines=adjustments')).rows).toEqual([]);
    });

    it('answers a repeat with the same Idempotency-Key again, starting one job', async () => {
      await seed();
      const first = await admin.post('/admin/reports/periods/2025-02/close').set('Idempotency-Key', 'close-feb').expect(202);
      const second = await admin.post('/admin/reports/periods/2025-02/close').set('Idempotency-Key', 'close-feb').expect(202);
      expect(second.headers['idempotent-replayed']).toBe('true');
      expect(second.body.id).toBe(first.body.id);
      expect((await admin.get('/admin/reports/jobs?kind=close_period').expect(200)).body.jobs).toHaveLength(1);
      await settled(first.body.id);
    });
  });

  describe('late data into a closed period (§13 item 13, I5)', () => {
    it('a late Almanach write posts one adjustment line in the drain; view=closed is unchanged, view=live differs by exactly it', async () => {
      await seed();
      const before = await usage('period=2025-03');
      await close('2025-03');
      // Frozen figures read as before the close.
      expect((await usage('period=2025-03')).rows).toEqual(before.rows);

      // One more instance-day of flavor a for p1, on 2025-03-10.
      const a = almanach(t, service);
      await a.createInstance('p1', 'i2', '2025-03-10T00:00:00Z', 'a');
      await a.deleteInstance('i2', '2025-03-11T00:00:00Z');
      await drainRollups(t);

      const lines = await t.runtime.dataSource.query(
        `SELECT applies_to_period::text, day::text, posted_in_period::text, project_id, site, meter, key, subkey, price_list_id, currency, quantity_delta::text, cost_delta, cause, job_id FROM report_adjustment_line`,
      );
      expect(lines).toEqual([
        {
          applies_to_period: '2025-03-01',
          day: '2025-03-10',
          posted_in_period: `${currentMonth()}-01`,
          project_id: 'p1',
          site: 'cloud',
          meter: 'instance.time',
          key: 'a',
          subkey: '',
          price_list_id: '',
          currency: null,
          quantity_delta: '86400.000000',
          cost_delta: null,
          cause: 'late_data',
          job_id: null,
        },
      ]);

      const closed = await usage('period=2025-03');
      const live = await usage('period=2025-03&view=live');
      expect(closed.rows).toEqual(before.rows);
      expect(byCell(closed)['p1|instance.time|a||usage|']).toBe('1641600.000000');
      expect(byCell(live)['p1|instance.time|a||usage|']).toBe('1728000.000000');
      expect(byCell(live)['p2|volume.size|ssd||usage|']).toBe(byCell(closed)['p2|volume.size|ssd||usage|']);
      expect(live.rows).toHaveLength(closed.rows.length);

      // lines=adjustments over the closed month lists what was posted against it.
      const adjustments = await usage('period=2025-03&lines=adjustments');
      expect(adjustments.rows).toEqual([
        expect.objectContaining({ line_type: 'adjustment', applies_to_period: '2025-03', project_id: 'p1', meter: 'instance.time', key: 'a', quantity: '86400.000000', quantity_hours: '24.000000' }),
      ]);
      // By day, an applied adjustment falls on its day; by month over the current year, a posted one in the month it was posted.
      const daily = await usage('period=2025-03&lines=adjustments&granularity=day');
      expect(daily.rows.map((r: Row) => [r.period, r.applies_to_period, r.quantity])).toEqual([['2025-03-10', '2025-03', '86400.000000']]);
      const year = currentMonth().slice(0, 4);
      const monthly = await usage(`period=${year}&granularity=month&group_by=project_id`);
      expect(monthly.rows.map((r: Row) => [r.period, r.line_type, r.applies_to_period, r.quantity])).toEqual([[currentMonth(), 'adjustment', '2025-03', '86400.000000']]);
      // lines=all (usage lines as frozen + the adjustments applied to the month) adds up to the live figures (I5).
      const all = await usage('period=2025-03&lines=all');
      expect(all.totals.by_meter).toEqual(live.totals.by_meter);
      expect(all.rows.map((r: Row) => [r.project_id, r.meter, r.line_type, r.applies_to_period])).toEqual([
        ['p1', 'instance.time', 'usage', null],
        ['p1', 'instance.time', 'adjustment', '2025-03'],
        ['p2', 'volume.size', 'usage', null],
      ]);
      // Paged one row at a time, the pages hold exactly the same rows (the keyset includes line_type and applies_to_period).
      const paged: Row[] = [];
      for (let cursor: string | null = null, i = 0; i === 0 || cursor; i++) {
        const page: Row = await usage(`period=2025-03&lines=all&limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        paged.push(...page.rows);
        expect(page.totals).toEqual(all.totals);
        cursor = page.next_cursor;
      }
      expect(paged).toEqual(all.rows);
      // The CSV form has the same lines, field for field.
      const csv = await t.http.get('/reports/usage?period=2025-03&lines=all&format=csv').set('X-Auth-Token', reader).expect(200);
      const [header, ...records] = parseCsv(csv.text);
      const at = (name: string) => header.indexOf(name);
      expect(records.map((r) => [r[at('project_id')], r[at('meter')], r[at('line_type')], r[at('applies_to_period')], r[at('quantity')]])).toEqual(
        all.rows.map((r: Row) => [r.project_id, r.meter, r.line_type, r.applies_to_period ?? '', r.quantity]),
      );
      // The report of the current month (what is invoiced now) carries the correction, saying which month it corrects.
      const now = await usage(`period=${currentMonth()}`);
      expect(now.rows).toEqual([expect.objectContaining({ line_type: 'adjustment', applies_to_period: '2025-03', project_id: 'p1', meter: 'instance.time', quantity: '86400.000000' })]);
      // view=live answers usage lines only.
      expect((await usage(`period=${currentMonth()}&view=live`)).rows).toEqual([]);

      // Recomputed from current state: marking every key of the month dirty again and draining posts nothing more.
      const rebuild = await admin.post('/admin/reports/consistency-checks').send({ period: '2025-03', rebuild: true }).expect(202);
      await settled(rebuild.body.id);
      await drainRollups(t);
      const [{ n }] = await t.runtime.dataSource.query(`SELECT count(*)::int AS n FROM report_adjustment_line`);
      expect(n).toBe(1);
    });

    it('an AMIE record attributed to a closed month gives one adjustment line per meter within the drain (applies_to_period, posted_in_period)', async () => {
      await seed();
      await close('2025-03');
      const site = await createSite(t, 'hpc-a');
      const record = compute('late-1', { LocalProjectID: 'p3', SubmitTime: '2025-03-12T09:00:00Z', StartTime: '2025-03-12T10:00:00Z', EndTime: '2025-03-12T12:00:00Z', Charge: '7.25' });
      await t.http.post('/amie/usage').set(site.headers).send({ UsageType: 'Compute', Records: [record] }).expect(200);
      await waitLoaded(t);
      await drainRollups(t);

      const adjustments = await usage('period=2025-03&lines=adjustments&group_by=project_id,site,key,subkey');
      expect(adjustments.rows.map((r: Row) => [r.line_type, r.applies_to_period, r.project_id, r.site, r.meter, r.key, r.subkey, r.quantity])).toEqual([
        ['adjustment', '2025-03', 'p3', 'hpc-a', 'amie.charge', 'cluster-a', 'compute', '7.25'],
        ['adjustment', '2025-03', 'p3', 'hpc-a', 'amie.core_time', 'cluster-a', 'compute', '57600.000000'],
        ['adjustment', '2025-03', 'p3', 'hpc-a', 'amie.node_time', 'cluster-a', 'compute', '7200.000000'],
      ]);
      const posted = await t.runtime.dataSource.query(`SELECT DISTINCT posted_in_period::text AS p, applies_to_period::text AS a FROM report_adjustment_line`);
      expect(posted).toEqual([{ p: `${currentMonth()}-01`, a: '2025-03-01' }]);
      // The frozen month has no p3; live has it; closed + adjustments = live, per meter (I5).
      const closed = await usage('period=2025-03&project_id=p3');
      const live = await usage('period=2025-03&project_id=p3&view=live');
      const all = await usage('period=2025-03&project_id=p3&lines=all');
      expect(closed.rows).toEqual([]);
      expect(live.rows.map((r: Row) => [r.meter, r.quantity])).toEqual(adjustments.rows.map((r: Row) => [r.meter, r.quantity]));
      expect(all.totals).toEqual(live.totals);
      // A user token of p3 sees the correction in the current month; one of p1 does not.
      const p3 = await t.token('user', { name: 'u3', projectIds: ['p3'] });
      const p1 = await t.token('user', { name: 'u1', projectIds: ['p1'] });
      expect((await usage(`period=${currentMonth()}`, p3)).rows).toHaveLength(3);
      expect((await usage(`period=${currentMonth()}`, p1)).rows).toEqual([]);
    });

    it('late data let in by a backfill window is posted with cause backfill; outside the window late_data', async () => {
      await seed();
      await close('2025-03');
      const expires = new Date(Date.now() + 3_600_000).toISOString();
      await admin.post('/admin/reports/backfills').send({ start: '2025-03-10', end: '2025-03-12', reason: 'import', expires_at: expires }).expect(201);
      const a = almanach(t, service);
      await a.createVolume('p2', 'v2', '2025-03-10T00:00:00Z', 10, 'ssd');
      await a.deleteVolume('v2', '2025-03-11T00:00:00Z');
      await a.createVolume('p2', 'v3', '2025-03-20T00:00:00Z', 20, 'ssd');
      await a.deleteVolume('v3', '2025-03-21T00:00:00Z');
      await drainRollups(t);
      const lines = await t.runtime.dataSource.query(`SELECT day::text AS day, quantity_delta::text AS q, cause FROM report_adjustment_line ORDER BY day`);
      expect(lines).toEqual([
        { day: '2025-03-10', q: '864000.000000', cause: 'backfill' },
        { day: '2025-03-20', q: '1728000.000000', cause: 'late_data' },
      ]);
    });

    it('takes the snapshot anyway when the wait runs out; what was pending becomes late_data lines and I5 holds', async () => {
      await seed();
      t.app.get(ClosePeriodHandler, { strict: false }).maxWaitSeconds = 0;
      const a = almanach(t, service);
      await a.createVolume('p2', 'v2', '2025-03-20T00:00:00Z', 10, 'ssd');
      await a.deleteVolume('v2', '2025-03-21T00:00:00Z');
      const done = await close('2025-03');
      expect(done.result).toMatchObject({ timed_out: true, pending_at_snapshot: expect.any(Number) });
      expect(done.result.pending_at_snapshot).toBeGreaterThan(0);
      await drainRollups(t);
      const adjustments = await usage('period=2025-03&lines=adjustments');
      expect(adjustments.rows).toEqual([expect.objectContaining({ applies_to_period: '2025-03', project_id: 'p2', meter: 'volume.size', key: 'ssd', quantity: '864000.000000' })]);
      const live = await usage('period=2025-03&view=live');
      const all = await usage('period=2025-03&lines=all');
      expect(all.totals).toEqual(live.totals);
    });
  });

  describe('/reports/usage view and lines (3.1, 5.3)', () => {
    it('view=live with lines other than usage is a 400; equal views for open periods', async () => {
      for (const lines of ['adjustments', 'all']) {
        const res = await t.http.get(`/reports/usage?period=2025-03&view=live&lines=${lines}`).set('X-Auth-Token', reader).expect(400);
        expect(res.body).toEqual({ error: 'view: live answers usage lines only', fields: { view: 'live answers usage lines only' } });
      }
      await seed();
      expect((await usage('period=2025-03&view=live')).rows).toEqual((await usage('period=2025-03&view=closed')).rows);
      expect((await usage('period=2025-03&lines=adjustments')).rows).toEqual([]);
    });
  });
});
