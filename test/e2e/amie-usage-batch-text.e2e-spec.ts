import { JobQueueService } from '../../src/queue/job-queue.service';
import { batchJobId } from '../../src/usage/usage.service';
import { compute, createSite, SiteCredentials, startUsageApp, storage, waitLoaded } from '../support/amie';
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

  const ledger = async (ids: string[]) =>
    db().query(
      `SELECT local_record_id AS id, local_project_id AS p, username AS u, charge::text AS c, adjustment_type AS a,
              to_char(usage_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS s, to_char(usage_end AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS e
       FROM amie_usage_record WHERE local_record_id = ANY($1) ORDER BY local_record_id`,
      [ids],
    );
  const storedKeys = async () =>
    (await db().query(`SELECT records FROM amie_usage_batch ORDER BY id`)).map((r: { records: string }) =>
      (JSON.parse(r.records) as Record<string, unknown>[]).map((x) => Object.keys(x).sort().join(',')),
    );

  it.each([
    ['kept', ''],
    ['not kept (a \\u escape)', ', "Note": "caf\\u00e9"'],
  ])('stores only n, r and i of a usual record and the fields that differ from the record, and loads both exactly (message text %s)', async (_name, extra) => {
    const day = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const usual = compute('form-1', { SubmitTime: `${day}T01:00:00.000Z`, StartTime: `${day}T02:00:00.000Z`, EndTime: `${day}T03:00:00.000Z`, AdjustmentType: 'debit' });
    const unusual = compute('form-2', {
      LocalProjectID: 42,
      Username: 7,
      Charge: '0010.50',
      SubmitTime: `${day}T01:00:00Z`,
      StartTime: `${day} 04:00:00.1234567+02:00`,
      EndTime: `${day}T03:00:00Z`,
    });
    const text = JSON.stringify({ UsageType: 'Compute', Records: [usual, unusual] }).replace(/}$/, `${extra}}`);
    await post(text).expect(200);
    const adjustment = { AdjustmentType: 'CREDIT', Charge: '5', StartTime: `${day}T05:00:00.000Z`, EndTime: `${day}T06:00:00.000Z`, LocalProjectID: 'P', LocalRecordID: 'form-3', Resource: 'r', Username: 'u' };
    await post(JSON.stringify({ UsageType: 'Adjustment', Records: [adjustment] })).expect(200);
    const storageRecord = storage('form-4', { CollectionTime: `${day}T07:00:00.000Z`, Charge: '100', StartTime: 'unknown', EndTime: 'unknown' });
    await post(JSON.stringify({ UsageType: 'Storage', Records: [storageRecord] })).expect(200);
    expect(await storedKeys()).toEqual([
      extra ? ['d,i,n,r', 'c,d,e,i,n,p,r,s,u'] : ['i,n,r', 'c,e,i,n,p,r,s,u'],
      ['a,i,n,r'],
      ['i,n,r'],
    ]);
    await waitLoaded(t);
    expect(await ledger(['job-form-1', 'job-form-2', 'form-3', 'stor-form-4'])).toEqual([
      { id: 'form-3', p: 'P', u: 'u', c: '5', a: 'credit', s: `${day}T05:00:00.000000`, e: null },
      { id: 'job-form-1', p: 'TG-ABC123', u: 'jdoe', c: '10.5', a: null, s: `${day}T02:00:00.000000`, e: `${day}T03:00:00.000000` },
      { id: 'job-form-2', p: '42', u: '7', c: '10.5', a: null, s: `${day}T02:00:00.123000`, e: `${day}T03:00:00.000000` },
      { id: 'stor-form-4', p: 'TG-ABC123', u: 'jdoe', c: '100', a: null, s: `${day}T07:00:00.000000`, e: `${day}T07:00:00.000000` },
    ]);
  });

  const postBytes = (name: Buffer) => {
    const [head, tail] = JSON.stringify({ UsageType: 'Compute', Records: [compute('bytes-1', { Attributes: { NodeCount: 1, JobName: '@' } })] }).split('@');
    return (
      t.http
        .post('/amie/usage/')
        .set(site.headers)
        .set('Content-Type', 'application/json')
        // As bytes: superagent would write a Buffer as JSON.
        .serialize((bytes: unknown) => bytes as string)
        .send(Buffer.concat([Buffer.from(head), name, Buffer.from(tail)]))
    );
  };

  it('keeps the text of a body with UTF-8 beyond ASCII and loads the record as sent', async () => {
    await postBytes(Buffer.from('café 😀', 'utf8')).expect(200);
    await waitLoaded(t);
    expect(await batches()).toEqual([true]);
    expect(JSON.parse(await stored('job-bytes-1')).Attributes.JobName).toBe('café 😀');
  });

  it('answers 400 for a body that is not UTF-8, and stores nothing', async () => {
    const res = await postBytes(Buffer.from([0x63, 0xff, 0x61, 0xc3])).expect(400);
    expect(res.body).toEqual({ error: 'Request body is not valid UTF-8' });
    expect(await batches()).toEqual([]);
  });

  /** A batch of one compute record written straight into the table (its message text kept, `storedRecord` as its stored form), and its job. */
  const storeAndEnqueue = async (record: Record<string, unknown>, storedRecord: Record<string, unknown>) => {
    await db().query(
      `INSERT INTO amie_usage_batch (id, site, usage_type, record_count, resource_counts, records, body)
       VALUES (nextval('amie_usage_receipt_seq'), $1, 'Compute', 1, '{"cluster-a": 1}', $2, $3)`,
      [site.name, JSON.stringify([storedRecord]), JSON.stringify({ UsageType: 'Compute', Records: [record] })],
    );
    const [{ id }] = await db().query(`SELECT max(id)::text AS id FROM amie_usage_batch`);
    await t.app.get(JobQueueService).enqueue('usage.load-batch', { batchId: id }, { jobId: batchJobId(id) });
  };

  it('loads a batch stored with every field (the form before the short one) as before', async () => {
    await storeAndEnqueue(compute('old-1'), { n: 0, r: 'cluster-a', i: 'job-old-1', p: 'P-old', u: 'U-old', c: '7.25', a: null, s: '2026-01-01T00:00:00.000Z', e: '2026-01-01T01:00:00.000Z' });
    await waitLoaded(t);
    expect(await ledger(['job-old-1'])).toEqual([{ id: 'job-old-1', p: 'P-old', u: 'U-old', c: '7.25', a: null, s: '2026-01-01T00:00:00.000000', e: '2026-01-01T01:00:00.000000' }]);
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
    // Stored as an accepted message would be, with a charge the loader cannot cast.
    await storeAndEnqueue(record, { n: 0, r: record.Resource, i: 'job-fails-1', p: 'P', u: 'U', c: 'not-a-number', a: null, s: null, e: null });
    await waitLoaded(t, 30_000);
    const list = (await t.http.get('/amie/usage/failed').set(site.headers).expect(200)).body.ValidationFailedRecords;
    expect(list).toEqual([expect.objectContaining({ Error: 'internal processing error', LocalRecordID: 'job-fails-1', Username: record.Username, Charge: record.Charge })]);
  });
});
