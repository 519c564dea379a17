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
    // No nightly sampled check in the loops: this suite times them.
    t = await startTestApp({ REPORT_TIME_ZONE: 'UTC', QUEUE_PREFIX: `test-fresh-${randomUUID()}`, CHECK_SAMPLE_PER_NIGHT: '0' }, { reportLoops: true, dropQueueKeys: true });
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

  /** A write the test waits for: how an answer shows it, and whether it has reached the ledger (for AMIE, its batch loaded). */
  interface Write {
    shown: (body: Row) => boolean;
    committed: () => Promise<boolean>;
  }
  const committedAlready = async () => true;

  /**
   * Polls `query` until every write shows (at most 60 s after `since`),
   * holding every answer before that to §5.5: an answer that lacks a write
   * already committed when it was asked for says complete: false with
   * pending_cells > 0. Returns the answer that shows them all. (Whether the
   * loops leave a poll the time to see a pending answer is up to them: the
   * pending state itself is held with the loops stopped, in
   * reports-usage.e2e-spec.ts.)
   */
  async function untilVisible(query: string, since: number, writes: Write[]) {
    let seen: Row | undefined;
    await until(
      `${query} to show the writes`,
      async () => {
        const committed = await Promise.all(writes.map((w) => w.committed()));
        const body = await usage(query);
        const lacking = writes.filter((w, i) => committed[i] && !w.shown(body));
        if (writes.every((w) => w.shown(body))) {
          seen = body;
          return true;
        }
        if (lacking.length > 0) {
          expect({ complete: body.complete, pending: body.pending_cells > 0 }).toEqual({ complete: false, pending: true });
          expect(Number.isInteger(body.lag_seconds) && body.lag_seconds >= 0).toBe(true);
        }
        return false;
      },
      FRESHNESS_MS - (Date.now() - since),
      50,
    );
    expect(Date.now() - since).toBeLessThan(FRESHNESS_MS);
    return seen!;
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
    const has = (meter: string) => (b: Row) => b.rows.some((r: Row) => r.meter === meter);
    const body = await untilVisible(query, written, [
      { shown: has('instance.time'), committed: committedAlready },
      { shown: has('amie.charge'), committed: batchesLoaded },
    ]);
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
    expect(days(await untilVisible(query, first, [{ shown: (b) => b.rows.length > 0, committed: batchesLoaded }]))).toEqual([['2025-06-10', '10.5']]);

    const moved = Date.now();
    await post('Compute', [job('p-move', 'job-move', '2025-06-12T12:00:00Z', '12')]);
    const movedOnly = (b: Row) => JSON.stringify(days(b)) === JSON.stringify([['2025-06-12', '12']]);
    const body = await untilVisible(query, moved, [{ shown: movedOnly, committed: batchesLoaded }]);
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
