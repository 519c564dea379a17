import { Client } from 'pg';
import { CHUNK_PAIRS, RerateHandler } from '../../src/reports/rating/engine/rerate.handler';
import { startUsageApp } from '../support/amie';
import { until } from '../support/processes';
import { correctPrice, createPriceList } from '../support/pricing';
import { almanach, drainRollups } from '../support/reports';
import { ADMIN_TOKEN, realServers, TestApp } from '../support/test-app';

/**
 * Re-rating (reports.md 4.6, 4.7): `POST /admin/reports/rerate` and its
 * errors, a re-rate after a price change (changed cells superseded, never
 * deleted; a repeat changes nothing), `recompute_usage`, and cancel at a
 * chunk boundary (real PostgreSQL: a second connection holds one day's lock).
 */

type Row = Record<string, any>;

if (!realServers.database) console.log('reports-rating-jobs: the cancel test skipped, DATABASE_URL is not set (it holds a lock from a second connection)');

describe('re-rating (/admin/reports/rerate)', () => {
  let t: TestApp;
  beforeAll(async () => {
    // One retry delay of 1 ms: a failing job ends failed at once instead of backing off past the test's deadline.
    t = await startUsageApp({ REPORT_TIME_ZONE: 'UTC', CLOUD_SITE: 'cloud', QUEUE_RETRY_DELAY_MS: '1' });
  }, 300_000);
  afterAll(async () => {
    await t?.close();
  });
  beforeEach(async () => {
    await t.reset();
  });

  const db = () => t.runtime.dataSource;
  const admin = {
    get: (path: string) => t.http.get(path).set('X-Auth-Token', ADMIN_TOKEN),
    post: (path: string, body?: unknown) => t.http.post(path).set('X-Auth-Token', ADMIN_TOKEN).send(body as object),
  };

  async function settled(id: string, timeoutMs = 60_000): Promise<Row> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const res = await admin.get(`/admin/reports/jobs/${id}`).expect(200);
      if (['succeeded', 'failed', 'cancelled'].includes(res.body.state)) return res.body;
      if (Date.now() > deadline) throw new Error(`job ${id} still ${res.body.state}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async function rerate(body: Record<string, unknown>): Promise<Row> {
    const res = await admin.post('/admin/reports/rerate', body).expect(202);
    expect(res.headers.location).toBe(`/admin/reports/jobs/${res.body.id}`);
    expect(res.body).toMatchObject({ kind: 'rerate', state: expect.stringMatching(/^(queued|running|succeeded)$/) });
    const job = await settled(res.body.id);
    expect(job.state).toBe('succeeded');
    return job;
  }

  async function usage(query: string): Promise<Row> {
    return (await t.http.get(`/reports/usage?${query}`).set('X-Auth-Token', ADMIN_TOKEN).expect(200)).body;
  }

  /** One instance of flavor f1 running 2 hours on each of the days 1..n of March 2025 in each project. */
  async function seed(projects: string[], days: number): Promise<void> {
    const a = almanach(t, await t.token('service', { name: `svc-${Math.random()}` }));
    for (const p of projects) {
      for (let d = 1; d <= days; d++) {
        const day = `2025-03-${String(d).padStart(2, '0')}`;
        await a.createInstance(p, `${p}-i${d}`, `${day}T10:00:00Z`, 'f1');
        await a.deleteInstance(`${p}-i${d}`, `${day}T12:00:00Z`);
      }
    }
    await drainRollups(t);
  }

  it('refuses bad bodies with 400 naming the field, other roles with 403', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const cases: [Record<string, unknown>, string][] = [
      [{ period: '2025-03' }, 'reason: required: a string of 1 to 1000 characters'],
      [{ start: '2025-03-01T01:00:00Z', end: '2025-04-01', reason: 'r' }, 'start: must start a day of UTC'],
      [{ start: '2025-03-01', end: '2025-03-31T12:00:00Z', reason: 'r' }, 'end: must start a day of UTC'],
      [{ start: '2025-03-01', end: '2099-01-01', reason: 'r' }, 'end: must not be later than the start of today'],
      [{ period: today, reason: 'r' }, 'period: must not be later than the start of today'],
      [{ period: '2025-03', start: '2025-03-01', reason: 'r' }, 'period: give either period or start and end, not both'],
      [{ start: '2025-03-01', reason: 'r' }, 'end: required (or give period)'],
      [{ start: '2025-03-10', end: '2025-03-01', reason: 'r' }, 'end: must be later than start'],
      [{ period: '2025-03', reason: 'r', currencies: ['eur'] }, 'currencies: each must be a three-letter ISO 4217 code or SU'],
      [{ period: '2025-03', reason: 'r', project_ids: [] }, 'project_ids: must name at least one project (leave it out for all)'],
      [{ period: '2025-03', reason: 'r', recompute_usage: 'yes' }, 'recompute_usage: must be true or false'],
      [{ period: '2025-03', reason: 'r', budget: 1 }, 'budget: not a known field'],
    ];
    for (const [body, error] of cases) {
      const res = await admin.post('/admin/reports/rerate', body);
      expect([res.status, res.body.error?.startsWith(error) ? error : res.body.error]).toEqual([400, error]);
    }
    const reader = await t.token('reader');
    await t.http.post('/admin/reports/rerate').set('X-Auth-Token', reader).send({ period: '2025-03', reason: 'r' }).expect(403);
    await t.http.post('/admin/reports/rerate').send({ period: '2025-03', reason: 'r' }).expect(401);
  });

  it('after a price correction, re-rates the scope: changed cells superseded by the job, new cells live, the report shows the new cost; a repeat changes nothing', async () => {
    const list = await createPriceList(t, {
      name: 'EUR default',
      currency: 'EUR',
      items: [{ meter: 'instance.time', key: 'f1', unit_price: '1.5', price_unit: 'hour', valid_from: '2025-01-01' }],
    });
    await seed(['p1', 'p2'], 3);
    expect((await usage('period=2025-03&currency=EUR&group_by=project_id')).totals.cost).toBe('18.000000');

    // The price changes (a correction, by SQL until its route lands): nothing moves until a re-rate.
    await correctPrice(t, list.items[0], '2.25');
    expect((await usage('period=2025-03&currency=EUR&group_by=project_id')).totals.cost).toBe('18.000000');

    const job = await rerate({ period: '2025-03', reason: 'price typo', project_ids: ['p1'] });
    expect(job.progress).toMatchObject({ total: 31, done: 31 });
    expect(job.scope).toEqual({ start: '2025-03-01T00:00:00.000Z', end: '2025-04-01T00:00:00.000Z', project_ids: ['p1'], currencies: null, recompute_usage: false });
    expect(job.result).toEqual({ cells_changed: 3, cells_superseded: 3, adjustments_posted: 0, cost_delta: { EUR: '4.500000' } });
    const body = await usage('period=2025-03&currency=EUR&group_by=project_id');
    expect(body.rows.map((r: Row) => [r.project_id, r.cost, r.unit_price])).toEqual([
      ['p1', '13.500000', '2.25'],
      ['p2', '9.000000', '1.5'],
    ]);
    // The old cells are kept, superseded by the job's run; the live ones carry it as their run.
    const cells: Row[] = await db().query(
      `SELECT day::text AS day, unit_price::text AS unit_price, cost::text AS cost, rating_run, superseded_by FROM report_rated_day_cell WHERE project_id = 'p1' ORDER BY day, superseded_by NULLS LAST`,
    );
    expect(cells).toEqual(
      ['2025-03-01', '2025-03-02', '2025-03-03'].flatMap((day) => [
        { day, unit_price: '1.5', cost: '3.000000', rating_run: 'incremental', superseded_by: job.id },
        { day, unit_price: '2.25', cost: '4.500000', rating_run: job.id, superseded_by: null },
      ]),
    );
    // The rated month and site-day sums moved with them.
    const months: Row[] = await db().query(`SELECT project_id, cost::text AS cost, cells FROM report_rated_month_cell ORDER BY project_id`);
    expect(months).toEqual([
      { project_id: 'p1', cost: '13.500000', cells: 3 },
      { project_id: 'p2', cost: '9.000000', cells: 3 },
    ]);
    expect((await usage('period=2025-03&currency=EUR&group_by=meter')).totals.cost).toBe('22.500000');

    // Every project (those with usage in the window), twice: the second run finds nothing to change.
    const all = await rerate({ period: '2025-03', reason: 'all projects' });
    expect(all.progress).toMatchObject({ total: 62, done: 62 });
    expect(all.result).toEqual({ cells_changed: 3, cells_superseded: 3, adjustments_posted: 0, cost_delta: { EUR: '4.500000' } });
    const again = await rerate({ period: '2025-03', reason: 'again', currencies: ['EUR'] });
    expect(again.result).toEqual({ cells_changed: 0, cells_superseded: 0, adjustments_posted: 0, cost_delta: {} });
    expect((await usage('period=2025-03&currency=EUR&group_by=meter')).totals.cost).toBe('27.000000');
    // A currency with no list rates nothing.
    const su = await rerate({ period: '2025-03', reason: 'su', currencies: ['SU'] });
    expect(su.result).toEqual({ cells_changed: 0, cells_superseded: 0, adjustments_posted: 0, cost_delta: {} });
  });

  it('recompute_usage rebuilds the day cells from raw first, then rates them', async () => {
    await createPriceList(t, {
      name: 'EUR default',
      currency: 'EUR',
      items: [{ meter: 'instance.time', key: '*', unit_price: '1', price_unit: 'hour', valid_from: '2025-01-01' }],
    });
    await seed(['p1'], 2);
    // A day cell broken by hand (the rated cell follows it on the next rating): only recompute_usage mends it.
    await db().query(`UPDATE report_usage_day_cell SET quantity = 36000 WHERE day = '2025-03-02'`);
    const plain = await rerate({ start: '2025-03-01', end: '2025-03-03', reason: 'plain' });
    expect(plain.result.cost_delta).toEqual({ EUR: '8.000000' });
    expect((await usage('start=2025-03-02&end=2025-03-03&currency=EUR')).rows[0]).toMatchObject({ quantity: '36000.000000', cost: '10.000000' });
    const fixed = await rerate({ start: '2025-03-01T00:00:00Z', end: '2025-03-03T00:00:00.000+00:00', reason: 'backfill', recompute_usage: true });
    expect(fixed.result).toMatchObject({ cells_changed: 1, cells_superseded: 1, cost_delta: { EUR: '-8.000000' } });
    expect((await usage('start=2025-03-02&end=2025-03-03&currency=EUR')).rows[0]).toMatchObject({ quantity: '7200.000000', cost: '2.000000' });
    expect((await usage('period=2025-03&currency=EUR&group_by=project_id')).rows[0]).toMatchObject({ quantity: '14400.000000', cost: '4.000000' });
  });

  it('the consistency check holds I4: a rated cell or a rated sum altered by hand is a mismatch; repair mends the cell', async () => {
    await createPriceList(t, {
      name: 'EUR default',
      currency: 'EUR',
      items: [{ meter: 'instance.time', key: 'f1', unit_price: '1', price_unit: 'hour', valid_from: '2025-01-01' }],
    });
    await seed(['p1', 'p2'], 2);
    const check = async (body: Record<string, unknown>) => {
      const job = await settled((await admin.post('/admin/reports/consistency-checks', body).expect(202)).body.id);
      expect(job.state).toBe('succeeded');
      return job.result;
    };
    expect(await check({ period: '2025-03' })).toMatchObject({ mismatch_count: 0 });
    await db().query(`UPDATE report_rated_day_cell SET cost = 9 WHERE project_id = 'p1' AND day = '2025-03-02'`);
    await db().query(`UPDATE report_rated_month_cell SET cost = cost + 1 WHERE project_id = 'p2'`);
    const found = await check({ period: '2025-03', repair: true });
    // The day cell (I4), and the sums it and the hand edit left wrong: p1's month and the site-day (per cell), p2's month.
    expect(found.mismatches).toEqual([
      expect.objectContaining({ invariant: 'I4', project_id: 'p1', site: 'cloud', day: '2025-03-02', meter: 'instance.time', key: 'f1', stored: '9', recomputed: '2.000000', price_list_id: expect.stringMatching(/^pl_/) }),
    ]);
    expect(found.mismatch_count).toBe(4);
    await drainRollups(t);
    const after: Row[] = await db().query(`SELECT cost::text AS cost FROM report_rated_day_cell WHERE project_id = 'p1' AND day = '2025-03-02' AND superseded_by IS NULL`);
    expect(after).toEqual([{ cost: '2.000000' }]);
  });

  (realServers.database ? it : it.skip)('cancel stops at the next chunk boundary and keeps the finished days (real PostgreSQL)', async () => {
    const list = await createPriceList(t, {
      name: 'EUR default',
      currency: 'EUR',
      items: [{ meter: 'instance.time', key: 'f1', unit_price: '1', price_unit: 'hour', valid_from: '2025-01-01' }],
    });
    await seed(['p1'], 6);
    await correctPrice(t, list.items[0], '2');
    // Chunks of one (project, day) pair, so that each day is a chunk of its own.
    const handler = t.app.get(RerateHandler);
    handler.chunkPairs = 1;
    // A second connection holds the (p1, 2025-03-03) lock: the job's third chunk waits for it.
    const holder = new Client({ connectionString: process.env.DATABASE_URL });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 7919))`, ['p1\u00012025-03-03']);
      const created = (await admin.post('/admin/reports/rerate', { start: '2025-03-01', end: '2025-03-07', reason: 'cancel me' }).expect(202)).body;
      const deadline = Date.now() + 30_000;
      for (;;) {
        const job = (await admin.get(`/admin/reports/jobs/${created.id}`).expect(200)).body;
        if (job.progress.done === 2) break;
        if (Date.now() > deadline) throw new Error(`job did not reach its third chunk: ${JSON.stringify(job)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      // The cancel waits for the job row, which the running chunk holds: release the day once it is asked.
      const cancelling = admin.post(`/admin/reports/jobs/${created.id}/cancel`).then((res) => res);
      // Both wait on a lock before the day is released: the third chunk on the day, the cancel on the job row. Named,
      // not counted: the reports loops of this process may wait on the held day too, and a count of two reached with
      // the cancel not yet waiting let the third chunk commit and the fourth begin before it (done 4, seen under load).
      await until('the chunk and the cancel to wait on their locks', async () => {
        const waiting: { q: string }[] = await t.runtime.dataSource.query(
          `SELECT query AS q FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        );
        return waiting.some((w) => w.q.includes('SET cancel_requested = true')) && waiting.some((w) => w.q.includes('pg_advisory_xact_lock'));
      });
      await holder.query('COMMIT');
      const answer = await cancelling;
      expect(answer.status).toBe(200);
      expect(answer.body.state).toBe('cancelling');
      const job = await settled(created.id);
      expect(job.state).toBe('cancelled');
      expect(job.progress).toMatchObject({ total: 6, done: 3 });
      expect(job.result).toMatchObject({ cells_changed: 3, cells_superseded: 3, cost_delta: { EUR: '6.000000' } });
    } finally {
      handler.chunkPairs = CHUNK_PAIRS;
      await holder.end();
    }
    const days = await usage('period=2025-03&currency=EUR&granularity=day&group_by=project_id');
    expect(days.rows.map((r: Row) => [r.period, r.cost])).toEqual([
      ['2025-03-01', '4.000000'],
      ['2025-03-02', '4.000000'],
      ['2025-03-03', '4.000000'],
      ['2025-03-04', '2.000000'],
      ['2025-03-05', '2.000000'],
      ['2025-03-06', '2.000000'],
    ]);
    // Days of both items: March's rated sum has no one item (null unit price) until a second job re-rates the rest (default chunks).
    const month = async () => (await usage('period=2025-03&currency=EUR&group_by=project_id')).rows.map((r: Row) => [r.cost, r.unit_price]);
    expect(await month()).toEqual([['18.000000', null]]);
    const rest = (await admin.post('/admin/reports/rerate', { period: '2025-03', reason: 'the rest' }).expect(202)).body;
    expect((await settled(rest.id)).result).toMatchObject({ cells_changed: 3, cells_superseded: 3, cost_delta: { EUR: '6.000000' } });
    expect(await month()).toEqual([['24.000000', '2']]);
  });
});
