import { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { QUEUE_NAME } from '../../src/queue/job-payloads';
import { startUsageApp } from '../support/amie';
import { correctPrice, createPriceList } from '../support/pricing';
import { almanach, drainRollups } from '../support/reports';
import { buildDist, startDist, stopProcess as stop, jobProgress, killWhileHoldingJob, until } from '../support/processes';
import { ADMIN_TOKEN, TestApp } from '../support/test-app';

/**
 * A re-rate job killed in the middle resumes from its stored cursor
 * (reports.md 4.6: "a crash resumes from the job's stored cursor"): the
 * worker is SIGKILLed while its next chunk waits for the job row, another
 * worker resumes the stalled queue job, and the result counts every changed
 * cell exactly once. Needs PostgreSQL and Redis (real worker processes).
 */
const real = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL);
const maybe = real ? describe : describe.skip;
if (!real) console.log('reports-rating-durability: skipped, it needs DATABASE_URL and REDIS_URL (real worker processes share them)');

const PROJECTS = Array.from({ length: 20 }, (_, i) => `p-${String(i).padStart(2, '0')}`);

maybe('re-rate durability (real processes)', () => {
  let t: TestApp;
  let prefix: string;
  const children: ChildProcess[] = [];

  beforeAll(() => {
    buildDist();
  }, 300_000);
  beforeEach(async () => {
    prefix = `test-rerate-${randomUUID()}`;
    // The API only: the workers are other processes.
    t = await startUsageApp({ QUEUE_PREFIX: prefix, REPORT_TIME_ZONE: 'UTC', CLOUD_SITE: 'cloud' }, { worker: false });
    await t.reset();
  });
  afterEach(async () => {
    for (const child of children.splice(0)) await stop(child, 'SIGKILL');
    await t.close();
  });

  it('resumes a re-rate from its last finished day after its worker is SIGKILLed; every cell counted once', async () => {
    const list = await createPriceList(t, {
      name: 'EUR default',
      currency: 'EUR',
      items: [{ meter: 'instance.time', key: 'f1', unit_price: '1', price_unit: 'hour', valid_from: '2024-01-01' }],
    });
    // The past-dated item queued a rerate job of its own (2024-01-01 to today, EUR): nothing consumes it
    // until the workers start, and then it would race the job under test over the same cells (whichever
    // re-rates a cell first counts it). Cancel it while it is still queued: the workers then skip it.
    expect(list.rerateJob).not.toBeNull();
    await t.http.post(`/admin/reports/jobs/${list.rerateJob}/cancel`).set('X-Auth-Token', ADMIN_TOKEN).expect(200);
    const a = almanach(t, await t.token('service'));
    for (const p of PROJECTS) {
      await a.createInstance(p, `${p}-i`, '2025-01-01T00:00:00Z', 'f1');
      await a.deleteInstance(`${p}-i`, '2026-01-01T00:00:00Z');
    }
    await drainRollups(t);
    // Every day cell of 2025 is rated at the first price before the correction.
    const [{ rated }] = await t.runtime.dataSource.query(
      `SELECT count(*)::int AS rated FROM report_rated_day_cell WHERE superseded_by IS NULL AND day < '2026-01-01'`,
    );
    expect(rated).toBe(7300);
    await correctPrice(t, list.items[0], '2');

    const env = { DATABASE_URL: process.env.DATABASE_URL, REDIS_URL: process.env.REDIS_URL, QUEUE_PREFIX: prefix, REPORT_TIME_ZONE: 'UTC', CLOUD_SITE: 'cloud' };
    const first = startDist('worker', env);
    children.push(first);
    const created = await t.http.post('/admin/reports/rerate').set('X-Auth-Token', ADMIN_TOKEN).send({ period: '2025', reason: 'durability' }).expect(202);
    const id: string = created.body.id;
    const row = () => jobProgress(t.runtime.dataSource, id);

    await until('the first chunks to finish', async () => (await row()).done > 0, 60_000, 5);
    const queue = new Queue(QUEUE_NAME, { connection: t.runtime.queue.redis!, prefix });
    try {
      // Killed while its next chunk waits on the job row inside its transaction.
      const held = await killWhileHoldingJob(t.runtime.dataSource, id, () => stop(first, 'SIGKILL'));
      expect(held.state).toBe('running');
      expect(held.total).toBe(365 * PROJECTS.length);
      expect(held.done).toBeGreaterThan(0);
      expect(held.done).toBeLessThan(held.total);
      expect(await row()).toEqual(held);

      children.push(startDist('worker', env));
      await until('the job to finish', async () => ['succeeded', 'failed'].includes((await row()).state), 120_000, 100);
      const job = (await t.http.get(`/admin/reports/jobs/${id}`).set('X-Auth-Token', ADMIN_TOKEN).expect(200)).body;
      expect(job).toMatchObject({ state: 'succeeded', progress: { total: 365 * PROJECTS.length, done: 365 * PROJECTS.length } });
      // Each of the 7,300 day cells changed once: 24 h a day at 2 instead of 1,
      // every live cell of each month written by this job's run (a failure shows which month went otherwise).
      const runs: { month: string; run: string; cells: number }[] = await t.runtime.dataSource.query(
        `SELECT to_char(day, 'YYYY-MM') AS month, CASE WHEN rating_run = $1 THEN 'job' ELSE rating_run END AS run, count(*)::int AS cells
         FROM report_rated_day_cell WHERE superseded_by IS NULL GROUP BY 1, 2 ORDER BY 1, 2`,
        [id],
      );
      const months = Array.from({ length: 12 }, (_, m) => `2025-${String(m + 1).padStart(2, '0')}`);
      expect({ result: job.result, runs }).toEqual({
        result: { cells_changed: 7300, cells_superseded: 7300, adjustments_posted: 0, cost_delta: { EUR: '175200.000000' } },
        runs: months.map((month) => ({ month, run: 'job', cells: 20 * new Date(Date.UTC(2025, Number(month.slice(5)), 0)).getUTCDate() })),
      });
    } finally {
      await queue.close();
    }
    const [{ live, old }] = await t.runtime.dataSource.query(
      `SELECT count(*) FILTER (WHERE superseded_by IS NULL)::int AS live, count(*) FILTER (WHERE superseded_by IS NOT NULL)::int AS old FROM report_rated_day_cell`,
    );
    expect([live, old]).toEqual([7300, 7300]);
    const report = (await t.http.get('/reports/usage?period=2025&currency=EUR&group_by=meter').set('X-Auth-Token', ADMIN_TOKEN).expect(200)).body;
    expect(report.totals.cost).toBe('350400.000000');
  }, 300_000);
});
