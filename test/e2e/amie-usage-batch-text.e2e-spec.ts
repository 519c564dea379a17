import { JobQueueService } from '../../src/queue/job-queue.service';
import { compute, createSite, SiteCredentials, startUsageApp, waitLoaded } from '../support/amie';
import { APP_START_TIMEOUT_MS, TestApp } from '../support/test-app';

/**
 * How an accepted message is stored (migration 1763801930000, docs/amie-usage.md
 * "Processing"): the batch keeps the message's JSON text when PostgreSQL reads
 * it as the API did, and each record is then loaded from that text; otherwise
 * (a `\u` escape, a number beyond numeric's range) each record's own copy.
 * Either way the ledger holds the record as received.
 */
describe('AMIE batches stored as text', () => {
  let t: TestApp;
  let site: SiteCredentials;

  beforeAll(async () => {
    t = await startUsageApp({ QUEUE_RETRY_DELAY_MS: '5' });
  }, APP_START_TIMEOUT_MS);
  afterAll(async () => {
    await t.close();
  });
  beforeEach(async () => {
    await t.reset();
    site = await createSite(t, 'site-text');
  });

  const db = () => t.runtime.dataSource;
  const post = (text: string) => t.http.post('/amie/usage/').set(site.headers).set('Content-Type', 'application/json').send(text);
  const stored = async (id: string) => (await db().query(`SELECT record::text AS record FROM amie_usage_record WHERE local_record_id = $1`, [id]))[0]?.record as string;
  const batches = async () => (await db().query(`SELECT body IS NOT NULL AS kept FROM amie_usage_batch ORDER BY id`)).map((r: { kept: boolean }) => r.kept) as boolean[];

  it('keeps the message text and loads every record from it, numbers with all their digits', async () => {
    const a = JSON.stringify(compute('text-1'));
    const b = JSON.stringify(compute('text-2', { Attributes: { NodeCount: 2 } })).replace(/}$/, ', "Big": 12345678901234567890123, "Deep": {"x": [1.50, "y"]}}');
    await post(`\uFEFF{"UsageType": "Compute", "Records": [${a}, {"LocalRecordID": 7}, ${b}], "Note": "kept"}`).expect(200);
    await waitLoaded(t);
    expect(await batches()).toEqual([true]);
    const [[expectA], [expectB]] = [
      await db().query(`SELECT $1::jsonb::text AS r`, [a]).then((rows: { r: string }[]) => rows.map((r) => r.r)),
      await db().query(`SELECT $1::jsonb::text AS r`, [b]).then((rows: { r: string }[]) => rows.map((r) => r.r)),
    ];
    expect(await stored('job-text-1')).toBe(expectA);
    expect(await stored('job-text-2')).toBe(expectB);
    expect(await stored('job-text-2')).toContain('"Big": 12345678901234567890123');
  });

  it.each([
    ['a \\u escape', '"JobName": "caf\\u00e9"', 'café'],
    ['an exponent beyond numeric', '"Huge": 1e99999', null],
  ])('stores each record with its copy when the text has %s, and loads the same record', async (_name, extra, value) => {
    const record = JSON.stringify(compute('copy-1')).replace(/}$/, `, ${extra}}`);
    await post(`{"UsageType": "Compute", "Records": [${record}]}`).expect(200);
    await waitLoaded(t);
    expect(await batches()).toEqual([false]);
    const loaded = JSON.parse(await stored('job-copy-1'));
    expect(loaded).toEqual(JSON.parse(JSON.stringify(JSON.parse(record))));
    expect(loaded.JobName ?? loaded.Huge).toBe(value);
  });

  it('echoes a record of a kept message text when its batch fails every attempt', async () => {
    const record = compute('fails-1');
    const body = JSON.stringify({ UsageType: 'Compute', Records: [record] });
    // Stored as an accepted message would be, with a charge the loader cannot cast.
    await db().query(
      `INSERT INTO amie_usage_batch (id, site, usage_type, record_count, resource_counts, records, body)
       VALUES (nextval('amie_usage_receipt_seq'), $1, 'Compute', 1, '{"cluster-a": 1}', $2, $3)`,
      [site.name, JSON.stringify([{ n: 0, r: record.Resource, i: 'job-fails-1', p: 'P', u: 'U', c: 'not-a-number', a: null, s: null, e: null }]), body],
    );
    const [{ id }] = await db().query(`SELECT max(id)::text AS id FROM amie_usage_batch`);
    await t.app.get(JobQueueService).enqueue('usage.load-batch', { batchId: id }, { jobId: `usage-batch-${id}` });
    await waitLoaded(t, 30_000);
    const list = (await t.http.get('/amie/usage/failed').set(site.headers).expect(200)).body.ValidationFailedRecords;
    expect(list).toEqual([expect.objectContaining({ Error: 'internal processing error', LocalRecordID: 'job-fails-1', Username: record.Username, Charge: record.Charge })]);
  });
});
