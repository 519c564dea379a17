import { randomUUID } from 'node:crypto';
import { JobQueueService } from '../../src/queue/job-queue.service';
import { createSite, SiteCredentials } from '../support/amie';
import { until } from '../support/processes';
import { almanach } from '../support/reports';
import { APP_START_TIMEOUT_MS, startTestApp, TestApp } from '../support/test-app';

/**
 * Freshness with the reports loops running as in production (reports.md
 * §5.5, §13 items 5 and 15): nothing here drains by hand. An Almanach write
 * and an AMIE batch reach /reports/usage within 60 s (for AMIE, counted from
 * the POST, earlier than the record becoming `loaded` where §5.5 starts the
 * clock), and every answer taken before a write shows says
 * `complete: false` with `pending_cells` > 0 once the write is committed
 * (for AMIE: once its batch is loaded).
 */

type Row = Record<string, any>;
const FRESHNESS_MS = 60_000;

describe('freshness through the running reports loops (reports.md §5.5, §13 items 5 and 15)', () => {
  let t: TestApp;
  let site: SiteCredentials;
  let reader: string;

  beforeAll(async () => {
    t = await startTestApp({ REPORT_TIME_ZONE: 'UTC', QUEUE_PREFIX: `test-fresh-${randomUUID()}` }, { reportLoops: true, dropQueueKeys: true });
    // The database is shared with the other suites: this one starts from an empty one.
    await t.reset();
    // With REDIS_URL the batches load and the loops run once this process consumes the queue, as a worker does.
    t.app.get(JobQueueService).startWorker();
    site = await createSite(t, 'hpc');
    reader = await t.token('reader', { name: 'billing' });
  }, APP_START_TIMEOUT_MS);
  afterAll(async () => {
    await t?.close();
  });

  const post = async (usageType: string, records: Row[]) => (await t.http.post('/amie/usage/').set(site.headers).send({ UsageType: usageType, Records: records }).expect(200)).body;
  const job = (project: string, id: string, end: string, charge: string | number) => ({
    Username: 'jdoe',
    LocalProjectID: project,
    LocalRecordID: id,
    Resource: 'cluster-a',
    SubmitTime: '2025-06-01T00:00:00Z',
    StartTime: '2025-06-01T01:00:00Z',
    EndTime: end,
    Charge: charge,
    Attributes: { NodeCount: 1 },
  });
  const usage = async (query: string) => (await t.http.get(`/reports/usage?${query}`).set('X-Auth-Token', reader).expect(200)).body;
  /** Whether every batch posted so far is out of `pending` (its records loaded or failed). */
  const batchesLoaded = async () => (await t.runtime.dataSource.query(`SELECT count(*)::int AS n FROM amie_usage_batch WHERE state = 'pending'`))[0].n === 0;

  /**
   * Polls `query` until `shows(answer)` (at most 60 s after `since`), holding
   * every answer before it to §5.5: once the write is committed (`committed()`
   * read before the answer was asked for), an answer that does not show it
   * says complete: false with pending_cells > 0. Returns the answer that
   * shows it and how many incomplete answers came before.
   */
  async function untilVisible(query: string, since: number, shows: (body: Row) => boolean, committed: () => Promise<boolean> = async () => true) {
    let seen: Row | undefined;
    let incomplete = 0;
    await until(
      `${query} to show the write`,
      async () => {
        const isCommitted = await committed();
        const body = await usage(query);
        if (shows(body)) {
          seen = body;
          return true;
        }
        if (isCommitted) {
          expect({ complete: body.complete, pending: body.pending_cells > 0 }).toEqual({ complete: false, pending: true });
          expect(Number.isInteger(body.lag_seconds) && body.lag_seconds >= 0).toBe(true);
          incomplete++;
        }
        return false;
      },
      FRESHNESS_MS - (Date.now() - since),
      50,
    );
    expect(Date.now() - since).toBeLessThan(FRESHNESS_MS);
    return { body: seen!, incomplete };
  }

  it('§13.15: an Almanach create and an AMIE batch show within 60 s; until then every answer says complete: false', async () => {
    const query = 'period=2025-06&project_id=p-fresh&meter=instance.time&meter=amie.charge&group_by=';
    expect(await usage(query)).toMatchObject({ complete: true, pending_cells: 0, rows: [] });
    const written = Date.now();
    const a = almanach(t, await t.token('service'));
    await a.createInstance('p-fresh', 'i-fresh', '2025-06-01T00:00:00Z', 'a');
    await a.deleteInstance('i-fresh', '2025-06-01T02:00:00Z');
    expect(await post('Compute', [job('p-fresh', 'job-fresh', '2025-06-01T05:00:00Z', '3.5')])).toMatchObject({ Message: '1 records received, 1 queued for processing, 0 failed validation' });
    const quantities = (body: Row) => body.rows.map((r: Row) => [r.meter, r.quantity]);
    const { body } = await untilVisible(query, written, (b) => b.rows.length === 2, batchesLoaded);
    expect(quantities(body)).toEqual([
      ['amie.charge', '3.5'],
      ['instance.time', '7200.000000'],
    ]);
    // Both writes drained: the answer is complete now.
    const settled = await usage(query);
    expect(settled).toMatchObject({ complete: true, pending_cells: 0, lag_seconds: 0 });
    expect(quantities(settled)).toEqual(quantities(body));
  }, 2 * FRESHNESS_MS);

  it('§13.5: a resubmission with another EndTime moves its charge within 60 s; a failed one is reported and leaves the charge counted', async () => {
    const query = 'period=2025-06&project_id=p-move&meter=amie.charge&granularity=day&group_by=';
    const days = (body: Row) => body.rows.map((r: Row) => [r.period, r.quantity]);
    const first = Date.now();
    await post('Compute', [job('p-move', 'job-move', '2025-06-10T12:00:00Z', '10.5')]);
    expect(days((await untilVisible(query, first, (b) => b.rows.length > 0, batchesLoaded)).body)).toEqual([['2025-06-10', '10.5']]);

    const moved = Date.now();
    await post('Compute', [job('p-move', 'job-move', '2025-06-12T12:00:00Z', '12')]);
    const { body } = await untilVisible(query, moved, (b) => b.rows.some((r: Row) => r.period === '2025-06-12'), batchesLoaded);
    expect(days(body)).toEqual([['2025-06-12', '12']]);

    // A resubmission that fails validation (a negative Charge) is reported as failed and changes nothing.
    const refused = await post('Compute', [job('p-move', 'job-move', '2025-06-13T12:00:00Z', -1)]);
    expect(refused.Message).toBe('1 records received, 0 queued for processing, 1 failed validation');
    const failed = (await t.http.get('/amie/usage/failed').set(site.headers).expect(200)).body;
    expect(failed.ValidationFailedRecords).toEqual([expect.objectContaining({ Error: expect.stringContaining('Charge'), LocalRecordID: 'job-move', EndTime: '2025-06-13T12:00:00Z', Charge: -1 })]);
    await until('no batch pending', batchesLoaded, FRESHNESS_MS);
    // Past one idle pass of the drain loop (1 s), the loaded version still counts, on its day.
    await new Promise((r) => setTimeout(r, 1500));
    const after = await usage(query);
    expect(after).toMatchObject({ complete: true, pending_cells: 0 });
    expect(days(after)).toEqual([['2025-06-12', '12']]);
  }, 3 * FRESHNESS_MS);
});
