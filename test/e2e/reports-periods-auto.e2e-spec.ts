import { JobQueueService } from '../../src/queue/job-queue.service';
import { PeriodsService } from '../../src/reports/rating/periods/periods.service';
import { until } from '../support/processes';
import { almanach } from '../support/reports';
import { ADMIN_TOKEN, APP_START_TIMEOUT_MS, startTestApp, TestApp } from '../support/test-app';

/**
 * The automatic close (reports.md 5.2, PERIOD_AUTO_CLOSE_DAYS): an app whose
 * reports loops run (as in a worker) with PERIOD_AUTO_CLOSE_DAYS=5 closes
 * every month with data that ended at least 5 days ago, through
 * close_period jobs created by `system`, and says when the others will
 * close (`auto_close_at`, 3.4).
 */

type Row = Record<string, any>;
const DAY_MS = 86_400_000;

/** The months `YYYY-MM` from `first` to `last`, oldest first. */
function monthsFrom(first: string, last: string): string[] {
  const out: string[] = [];
  let [y, m] = first.split('-').map(Number);
  for (;;) {
    const label = `${y}-${String(m).padStart(2, '0')}`;
    out.push(label);
    if (label === last) return out;
    if (m === 12) {
      y += 1;
      m = 1;
    } else {
      m += 1;
    }
  }
}

/** The first instant of the month after `label` (UTC, the accounting zone here). */
const monthEnd = (label: string) => {
  const [y, m] = label.split('-').map(Number);
  return Date.UTC(y, m, 1);
};

describe('automatic period close (PERIOD_AUTO_CLOSE_DAYS)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ REPORT_TIME_ZONE: 'UTC', CLOUD_SITE: 'cloud', PERIOD_AUTO_CLOSE_DAYS: '5' }, { reportLoops: true });
    // With REDIS_URL the queue (and with it the reports loops) is consumed once a worker runs, as in `npm run start:worker`.
    t.app.get(JobQueueService).startWorker();
  }, APP_START_TIMEOUT_MS);
  afterAll(async () => {
    await t?.close();
  });

  it('closes every month with data that ended 5 days ago or more, as system; the others say when they will close', async () => {
    await t.reset();
    const service = await t.token('service');
    const a = almanach(t, service);
    await a.createInstance('p1', 'i1', '2025-03-01T00:00:00Z', 'a');
    await a.deleteInstance('i1', '2025-03-03T00:00:00Z');

    const now = Date.now();
    const current = new Date(now).toISOString().slice(0, 7);
    const months = monthsFrom('2025-03', current);
    const due = months.filter((m) => monthEnd(m) + 5 * DAY_MS <= now);
    const notDue = months.filter((m) => !due.includes(m));
    expect(due.length).toBeGreaterThan(0);

    let periods: Row[] = [];
    await until(
      `${due.length} periods closed by the loops`,
      async () => {
        periods = (await t.http.get('/reports/periods').set('X-Auth-Token', ADMIN_TOKEN).expect(200)).body.periods;
        return periods.filter((p) => p.state === 'closed').length >= due.length;
      },
      120_000,
      250,
    );
    const byLabel = new Map(periods.map((p) => [p.period, p]));
    expect(periods.map((p) => p.period)).toEqual([...months].reverse());
    for (const label of due) {
      expect(byLabel.get(label)).toMatchObject({ state: 'closed', closed_by: 'system', closed_at: expect.any(String), auto_close_at: null });
    }
    for (const label of notDue) {
      expect(byLabel.get(label)).toMatchObject({ state: 'open', closed_at: null, closed_by: null, auto_close_at: new Date(monthEnd(label) + 5 * DAY_MS).toISOString() });
    }

    // One job per closed month, by system, each succeeded.
    const jobs: Row[] = (await t.http.get('/admin/reports/jobs?kind=close_period').set('X-Auth-Token', ADMIN_TOKEN).expect(200)).body.jobs;
    expect(jobs.map((j) => j.scope.period).sort()).toEqual(due);
    for (const job of jobs) expect(job).toMatchObject({ kind: 'close_period', created_by: 'system', state: 'succeeded', reason: 'automatic close, 5 days after the period ended' });
    // March's frozen figures are the instance's two days.
    const march = (await t.http.get('/reports/usage?period=2025-03&meter=instance.time').set('X-Auth-Token', ADMIN_TOKEN).expect(200)).body;
    expect(march.rows.map((r: Row) => [r.project_id, r.quantity])).toEqual([['p1', '172800.000000']]);

    // Another pass finds nothing more to close.
    expect(await t.app.get(PeriodsService, { strict: false }).autoClose(5)).toEqual([]);

    // §13 item 13 with the loops as in production: a late write into closed March becomes an adjustment line within 60 s.
    const written = Date.now();
    await a.createInstance('p2', 'i2', '2025-03-05T00:00:00Z', 'b');
    await a.deleteInstance('i2', '2025-03-06T00:00:00Z');
    let lines: Row[] = [];
    await until(
      'the adjustment line of the late write',
      async () => {
        lines = (await t.http.get('/reports/usage?period=2025-03&lines=adjustments').set('X-Auth-Token', ADMIN_TOKEN).expect(200)).body.rows;
        return lines.length > 0;
      },
      60_000,
      250,
    );
    expect(Date.now() - written).toBeLessThan(60_000);
    expect(lines.map((r) => [r.line_type, r.applies_to_period, r.project_id, r.meter, r.key, r.quantity])).toEqual([['adjustment', '2025-03', 'p2', 'instance.time', 'b', '86400.000000']]);
    expect((await t.http.get('/reports/usage?period=2025-03&meter=instance.time').set('X-Auth-Token', ADMIN_TOKEN).expect(200)).body.rows).toEqual(march.rows);
  }, 180_000);
});
