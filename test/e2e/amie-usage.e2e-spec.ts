import { JobQueueService } from '../../src/queue/job-queue.service';
import { UsageLoaderService } from '../../src/usage/usage-loader.service';
import { adjustment, compute, createSite, iso, SiteCredentials, startUsageApp, storage, waitLoaded } from '../support/amie';
import { APP_START_TIMEOUT_MS, ADMIN_TOKEN, TestApp } from '../support/test-app';

const HOUR = 3_600_000;

describe('AMIE usage API (/amie)', () => {
  let t: TestApp;
  let site: SiteCredentials;

  beforeAll(async () => {
    t = await startUsageApp();
  }, APP_START_TIMEOUT_MS);
  afterAll(async () => {
    await t.close();
  });
  beforeEach(async () => {
    await t.reset();
    site = await createSite(t, 'site-a');
  });

  const send = (body: unknown, creds: SiteCredentials = site, path = '/amie/usage/') => t.http.post(path).set(creds.headers).send(body as object);
  const status = (query = '', creds: SiteCredentials = site) => t.http.get(`/amie/usage/status${query}`).set(creds.headers);
  const failed = (creds: SiteCredentials = site) => t.http.get('/amie/usage/failed').set(creds.headers);
  const db = () => t.runtime.dataSource;

  /** Sends one record and returns its failure text, or null when it was queued. */
  async function errorOf(type: string, record: Record<string, unknown>): Promise<string | null> {
    const res = await send({ UsageType: type, Records: [record] }).expect(200);
    return res.body.ValidationFailedRecords[0]?.Error ?? null;
  }

  describe('credentials (XA-Site / XA-API-Key)', () => {
    it('answers 401 with a JSON error when the headers are missing', async () => {
      const res = await t.http.get('/amie/usage/status').expect(401);
      expect(res.body).toEqual({ error: expect.any(String) });
    });

    it('answers 401 when one header is empty', async () => {
      await t.http.get('/amie/usage/status').set({ 'XA-SITE': site.name, 'XA-API-KEY': '' }).expect(401);
    });

    it('answers 401 for an unknown site and for a wrong key', async () => {
      await t.http.get('/amie/usage/status').set({ 'XA-SITE': 'nope', 'XA-API-KEY': site.key }).expect(401);
      await t.http.get('/amie/usage/status').set({ 'XA-SITE': site.name, 'XA-API-KEY': 'wrong' }).expect(401);
    });

    it("answers 403 for another site's current key", async () => {
      const other = await createSite(t, 'site-b');
      const res = await t.http.get('/amie/usage/failed').set({ 'XA-SITE': site.name, 'XA-API-KEY': other.key }).expect(403);
      expect(res.body.error).toEqual(expect.any(String));
    });

    it('ignores X-Auth-Token, even the admin token', async () => {
      await t.http.get('/amie/usage/status').set('X-Auth-Token', ADMIN_TOKEN).expect(401);
    });

    it('refuses a rotated key at once', async () => {
      await t.http.post(`/admin/sites/${site.name}/rotate`).set('X-Auth-Token', ADMIN_TOKEN).expect(200);
      await status().expect(401);
    });

    it('refuses a submission with a key another process rotated, at once, though this process found it current a moment ago', async () => {
      const stored = async () =>
        (await db().query(`SELECT (SELECT count(*) FROM amie_usage_batch)::int AS batches, (SELECT count(*) FROM amie_usage_failed_record)::int AS failed`))[0];
      // This process finds the key current (the guard then takes it from memory, the write checks it).
      await send({ UsageType: 'Compute', Records: [compute(1)] }).expect(200);
      await send({ UsageType: 'Compute', Records: [compute(2)] }).expect(200);
      const before = await stored();
      // Another API process rotates it: this one is not told.
      await db().query(`UPDATE amie_site SET api_key_hash = $2 WHERE name = $1`, [site.name, 'f'.repeat(64)]);
      const unknown = { error: 'XA-API-Key is not the current key of the site named in XA-Site (unknown site, or a key rotated out)' };
      expect((await send({ UsageType: 'Compute', Records: [compute(3)] }).expect(401)).body).toEqual(unknown);
      // A message with failed records, and a whole message refused: still the 401, before anything about the message.
      await send({ UsageType: 'Compute', Records: [compute(4), compute(5, { Charge: -1 })] }).expect(401);
      await send({ UsageType: 'Compute', Records: [compute(6)] }).expect(401);
      expect((await send({ UsageType: 'Nope', Records: [compute(7)] }).expect(401)).body).toEqual(unknown);
      expect(await stored()).toEqual(before);
      // The site's new key (rotated through the API) works; another site's current key is still a 403.
      const rotated = await t.http.post(`/admin/sites/${site.name}/rotate`).set('X-Auth-Token', ADMIN_TOKEN).expect(200);
      const current = { ...site, key: rotated.body.api_key, headers: { ...site.headers, 'XA-API-KEY': rotated.body.api_key } };
      await send({ UsageType: 'Compute', Records: [compute(8)] }, current).expect(200);
      await send({ UsageType: 'Compute', Records: [compute(9)] }, current).expect(200);
      const other = await createSite(t, 'site-b');
      await send({ UsageType: 'Compute', Records: [compute(10)] }, other).expect(200);
      await send({ UsageType: 'Compute', Records: [compute(11)] }, { ...current, headers: { ...current.headers, 'XA-API-KEY': other.key } }).expect(403);
      expect((await stored()).batches).toBe(before.batches + 3);
    });

    it('matches header names case-insensitively', async () => {
      await t.http.get('/amie/usage/status').set({ 'xa-site': site.name, 'xa-api-key': site.key }).expect(200);
    });
  });

  describe('POST /amie/usage', () => {
    it('answers 200 with the exact message and counts, then loads the records', async () => {
      const res = await send({ UsageType: 'Compute', Records: [compute(1), compute(2), compute(3, { Charge: -4 })] }).expect(200);
      expect(res.body).toEqual({
        Message: '3 records received, 2 queued for processing, 1 failed validation',
        ReceivedRecordCount: 3,
        QueuedRecordCount: 2,
        ValidationFailedRecordCount: 1,
        ValidationFailedRecords: [expect.objectContaining({ UsageType: 'Compute', Error: 'Charge: must not be negative', FailedRecordID: expect.any(Number) })],
      });
      await waitLoaded(t);
      const st = await status().expect(200);
      expect(st.body).toEqual([
        expect.objectContaining({ Resource: 'cluster-a', LoadedRecordCount: 2, FailedJobCount: 1, TotalCharge: 21, PendingRecordCount: 0 }),
      ]);
    });

    it('answers ValidationFailedRecords [] when every record is valid', async () => {
      const res = await send({ UsageType: 'Compute', Records: [compute(1)] }).expect(200);
      expect(res.body.ValidationFailedRecords).toEqual([]);
      expect(res.body.Message).toBe('1 records received, 1 queued for processing, 0 failed validation');
    });

    it('serves the path without the trailing slash too, with no redirect', async () => {
      const res = await send({ UsageType: 'Compute', Records: [compute(1)] }, site, '/amie/usage').expect(200);
      expect(res.body.QueuedRecordCount).toBe(1);
    });

    it('accepts and loads storage records', async () => {
      const res = await send({ UsageType: 'Storage', Records: [storage(1), storage(2, { Charge: '2.25', Attributes: {} })] }).expect(200);
      expect(res.body.QueuedRecordCount).toBe(2);
      await waitLoaded(t);
      const st = await status().expect(200);
      expect(st.body).toEqual([expect.objectContaining({ Resource: 'store-a', LoadedRecordCount: 2, TotalCharge: 102.25 })]);
    });

    it('accepts adjustments of all six types, case-insensitively, and stores them lower-case', async () => {
      const types = ['credit', 'Refund', 'STORAGE-CREDIT', 'debit', 'reservation', 'storage-debit'];
      const res = await send({ UsageType: 'adjustment', Records: types.map((a, i) => adjustment(i, { AdjustmentType: a })) }).expect(200);
      expect(res.body.QueuedRecordCount).toBe(6);
      await waitLoaded(t);
      const rows = await db().query(`SELECT adjustment_type FROM amie_usage_record WHERE usage_type = 'Adjustment' ORDER BY local_record_id`);
      expect(rows.map((r: { adjustment_type: string }) => r.adjustment_type)).toEqual(types.map((a) => a.toLowerCase()));
    });

    it('exempts adjustments from the future rule', async () => {
      expect(await errorOf('Adjustment', adjustment(1, { StartTime: iso(Date.now() + 48 * HOUR) }))).toBeNull();
    });

    it('keeps charges as exact decimals', async () => {
      await send({ UsageType: 'Compute', Records: [compute(1, { Charge: '0.1' }), compute(2, { Charge: '0.2' }), compute(3, { Charge: '123456789012345.123456789' })] }).expect(200);
      await waitLoaded(t);
      const rows = await db().query(`SELECT charge::text FROM amie_usage_record ORDER BY local_record_id`);
      expect(rows.map((r: { charge: string }) => r.charge)).toEqual(['0.1', '0.2', '123456789012345.123456789']);
      const [{ sum }] = await db().query(`SELECT sum(charge)::text AS sum FROM amie_usage_record WHERE local_record_id IN ('job-1', 'job-2')`);
      expect(sum).toBe('0.3');
    });

    it('stores integer identifiers as their decimal string', async () => {
      await send({ UsageType: 'Compute', Records: [compute(1, { LocalRecordID: 881234, LocalProjectID: 42, Username: 7, Resource: 9 })] }).expect(200);
      await waitLoaded(t);
      const rows = await db().query(`SELECT local_record_id, local_project_id, username, resource FROM amie_usage_record`);
      expect(rows).toEqual([{ local_record_id: '881234', local_project_id: '42', username: '7', resource: '9' }]);
    });

    it('accepts a record carrying the same UsageType as the message and ignores it', async () => {
      const res = await send({ UsageType: 'Compute', Records: [{ ...compute(1), UsageType: 'compute' }] }).expect(200);
      expect(res.body.QueuedRecordCount).toBe(1);
    });

    describe('whole-message errors (400)', () => {
      const cases: [string, unknown, string][] = [
        ['an array body', [compute(1)], 'request body must be a JSON object'],
        ['a missing UsageType', { Records: [compute(1)] }, 'UsageType: required'],
        ['a null UsageType', { UsageType: null, Records: [compute(1)] }, 'UsageType: required'],
        ['an unknown UsageType', { UsageType: 'Network', Records: [compute(1)] }, 'UsageType: must be one of Compute, Storage, Adjustment'],
        ['a non-string UsageType', { UsageType: 3, Records: [compute(1)] }, 'UsageType: must be one of Compute, Storage, Adjustment'],
        ['missing Records', { UsageType: 'Compute' }, 'Records: required'],
        ['Records not an array', { UsageType: 'Compute', Records: compute(1) }, 'Records: must be an array'],
        ['empty Records', { UsageType: 'Compute', Records: [] }, 'Records: must not be empty'],
        ['an element that is not an object', { UsageType: 'Compute', Records: [compute(1), 'x'] }, 'Records[1]: must be a JSON object'],
        ['an element that is null', { UsageType: 'Compute', Records: [null] }, 'Records[0]: must be a JSON object'],
        ['a record of another type', { UsageType: 'Compute', Records: [compute(1), { ...storage(1), UsageType: 'Storage' }] }, "Records[1].UsageType: differs from the message's UsageType Compute"],
      ];
      it.each(cases)('answers 400 and stores nothing for %s', async (_name, body, error) => {
        const res = await send(body).expect(400);
        expect(res.body).toEqual({ error });
        const [{ n }] = await db().query(`SELECT (SELECT count(*) FROM amie_usage_batch) + (SELECT count(*) FROM amie_usage_failed_record) AS n`);
        expect(Number(n)).toBe(0);
      });

      it('answers 400 for a request without a body', async () => {
        const res = await t.http.post('/amie/usage/').set(site.headers).set('Content-Type', 'application/json').expect(400);
        expect(res.body).toEqual({ error: 'request body is required' });
      });

      it('answers 400 for a body that is not valid JSON', async () => {
        const res = await t.http.post('/amie/usage/').set(site.headers).set('Content-Type', 'application/json').send('{"UsageType": ').expect(400);
        expect(res.body).toEqual({ error: expect.any(String) });
      });

      it('answers 415 for a body that is not JSON', async () => {
        const res = await t.http.post('/amie/usage/').set(site.headers).set('Content-Type', 'text/plain').send('hello').expect(415);
        expect(res.body).toEqual({ error: expect.any(String) });
        await t.http.post('/amie/usage/').set(site.headers).type('form').send('UsageType=Compute').expect(415);
      });

      it('answers 413 above 1 MiB and accepts exactly 1 MiB', async () => {
        const body = JSON.stringify({ UsageType: 'Compute', Records: [compute(1)] });
        const exact = body.slice(0, -1) + ' '.repeat(1048576 - body.length) + '}';
        expect(Buffer.byteLength(exact)).toBe(1048576);
        await t.http.post('/amie/usage/').set(site.headers).set('Content-Type', 'application/json').send(exact).expect(200);
        const res = await t.http.post('/amie/usage/').set(site.headers).set('Content-Type', 'application/json').send(exact + ' ').expect(413);
        expect(res.body).toEqual({ error: expect.any(String) });
      });
    });

    describe('per-record rules', () => {
      const now = Date.now();
      const long = 'x'.repeat(256);
      const computeCases: [string, Record<string, unknown>, string | null][] = [
        ['Username missing', { Username: undefined }, 'Username: required'],
        ['Username null', { Username: null }, 'Username: required'],
        ['LocalProjectID empty', { LocalProjectID: '' }, 'LocalProjectID: must not be empty'],
        ['LocalProjectID whitespace', { LocalProjectID: '   ' }, 'LocalProjectID: must not be empty'],
        ['LocalRecordID a fraction', { LocalRecordID: 12.5 }, 'LocalRecordID: must be a string or integer'],
        ['LocalRecordID an object', { LocalRecordID: { a: 1 } }, 'LocalRecordID: must be a string or integer'],
        ['LocalRecordID boolean', { LocalRecordID: true }, 'LocalRecordID: must be a string or integer'],
        ['Resource over 255 characters', { Resource: long }, 'Resource: must be at most 255 characters'],
        ['Resource of 255 characters', { Resource: 'r'.repeat(255) }, null],
        ['SubmitTime missing', { SubmitTime: undefined }, 'SubmitTime: required'],
        ['StartTime not a date', { StartTime: 'yesterday' }, 'StartTime: not a valid date-time'],
        ['EndTime an epoch number', { EndTime: 1714557600 }, 'EndTime: not a valid date-time'],
        ['SubmitTime February 30', { SubmitTime: '2024-02-30T00:00:00Z' }, 'SubmitTime: not a valid date-time'],
        ['SubmitTime hour 24', { SubmitTime: '2024-02-01T24:00:00Z' }, 'SubmitTime: not a valid date-time'],
        ['EndTime in the future', { EndTime: iso(now + 2 * HOUR) }, 'EndTime: in the future'],
        ['EndTime within the hour of slack', { EndTime: iso(now + 30 * 60_000) }, null],
        ['StartTime before SubmitTime', { SubmitTime: iso(now - HOUR), StartTime: iso(now - 2 * HOUR), EndTime: iso(now - HOUR) }, 'StartTime: before SubmitTime'],
        ['EndTime before StartTime', { EndTime: iso(now - 4 * HOUR) }, 'EndTime: before StartTime'],
        ['equal times', { SubmitTime: iso(now - HOUR), StartTime: iso(now - HOUR), EndTime: iso(now - HOUR) }, null],
        ['Charge missing', { Charge: undefined }, 'Charge: required'],
        ['Charge not numeric', { Charge: 'abc' }, 'Charge: must be a number'],
        ['Charge a boolean', { Charge: true }, 'Charge: must be a number'],
        ['Charge negative', { Charge: -4 }, 'Charge: must not be negative'],
        ['Charge a negative string', { Charge: '-0.5' }, 'Charge: must not be negative'],
        ['Charge with 16 integer digits', { Charge: '1234567890123456' }, 'Charge: must have at most 15 digits before the decimal point'],
        ['Charge 1e16', { Charge: 1e16 }, 'Charge: must have at most 15 digits before the decimal point'],
        ['Charge zero', { Charge: 0 }, null],
        ['Charge "1e3"', { Charge: '1e3' }, null],
        ['Charge "12.5"', { Charge: '12.5' }, null],
        ['Attributes missing', { Attributes: undefined }, 'Attributes: required'],
        ['Attributes not an object', { Attributes: [1] }, 'Attributes: must be an object'],
        ['NodeCount missing', { Attributes: {} }, 'Attributes.NodeCount: required'],
        ['NodeCount zero', { Attributes: { NodeCount: 0 } }, 'Attributes.NodeCount: must be an integer of at least 1'],
        ['NodeCount "0"', { Attributes: { NodeCount: '0' } }, 'Attributes.NodeCount: must be an integer of at least 1'],
        ['NodeCount a fraction', { Attributes: { NodeCount: 1.5 } }, 'Attributes.NodeCount: must be an integer of at least 1'],
        ['NodeCount "4"', { Attributes: { NodeCount: '4' } }, null],
        ['CpuCoreCount "x"', { Attributes: { NodeCount: 1, CpuCoreCount: 'x' } }, 'Attributes.CpuCoreCount: must be an integer of at least 1'],
        ['JobName a number', { Attributes: { NodeCount: 1, JobName: 5 } }, 'Attributes.JobName: must be a string'],
        ['Memory negative', { Attributes: { NodeCount: 1, Memory: -1 } }, 'Attributes.Memory: must be a non-negative number'],
        ['Queue a list', { Attributes: { NodeCount: 1, Queue: ['a'] } }, 'Attributes.Queue: must be a string'],
        ['unknown attribute', { Attributes: { NodeCount: 1, Gpu: 'yes' } }, null],
        ['ParentRecordID of two elements', { ParentRecordID: ['1', '2'] }, 'ParentRecordID: must be a string, an integer, null or an array of exactly one of these'],
        ['ParentRecordID an empty array', { ParentRecordID: [] }, 'ParentRecordID: must be a string, an integer, null or an array of exactly one of these'],
        ['ParentRecordID an object', { ParentRecordID: {} }, 'ParentRecordID: must be a string, an integer, null or an array of exactly one of these'],
        ['ParentRecordID ["123"]', { ParentRecordID: ['123'] }, null],
        ['ParentRecordID [123]', { ParentRecordID: [123] }, null],
        ['ParentRecordID a string', { ParentRecordID: '123' }, null],
        ['ParentRecordID null', { ParentRecordID: null }, null],
        ['LocalReference a number', { LocalReference: 5 }, 'LocalReference: must be a string'],
        ['LocalReference over 255', { LocalReference: long }, 'LocalReference: must be at most 255 characters'],
        ['unknown field', { Cluster: 'x' }, null],
        ['several problems, in table order', { Charge: 'x', Username: null, Attributes: { NodeCount: 0 } }, 'Username: required; Charge: must be a number; Attributes.NodeCount: must be an integer of at least 1'],
      ];
      it.each(computeCases)('Compute: %s', async (_name, overrides, error) => {
        expect(await errorOf('Compute', compute(1, overrides))).toBe(error);
      });

      const dateCases: [string, boolean][] = [
        ['2024-05-01T10:19', true],
        ['2024-05-01T10:19:15', true],
        ['2024-05-01T10:19:15.123456789Z', true],
        ['2024-05-01 10:19:15', true],
        ['2024-05-01T10:19:15+02:00', true],
        ['2024-05-01T10:19:15-0530', true],
        ['2024-05-01', true],
        ['2024-05-01T10', false],
        ['05/01/2024', false],
        ['2024-13-01', false],
        ['2024-05-01T10:19:15+2', false],
      ];
      it.each(dateCases)('date-time %s valid: %s', async (text, valid) => {
        const error = await errorOf('Storage', storage(1, { CollectionTime: text }));
        expect(error).toBe(valid ? null : 'CollectionTime: not a valid date-time');
      });

      it('stores date-times as UTC instants, honouring the offset', async () => {
        await send({ UsageType: 'Storage', Records: [storage(1, { CollectionTime: '2024-05-01T12:00:00+02:00' })] }).expect(200);
        await waitLoaded(t);
        const [row] = await db().query(`SELECT usage_end FROM amie_usage_record`);
        expect(new Date(row.usage_end).toISOString()).toBe('2024-05-01T10:00:00.000Z');
      });

      const storageCases: [string, Record<string, unknown>, string | null][] = [
        ['CollectionTime missing', { CollectionTime: null }, 'CollectionTime: required'],
        ['CollectionTime in the future', { CollectionTime: iso(now + 2 * HOUR) }, 'CollectionTime: in the future'],
        ['Attributes missing', { Attributes: undefined }, 'Attributes: required'],
        ['Attributes a string', { Attributes: 'x' }, 'Attributes: must be an object'],
        ['BytesRead negative', { Attributes: { BytesRead: -1 } }, 'Attributes.BytesRead: must be a non-negative integer'],
        ['BytesStored a fraction', { Attributes: { BytesStored: 1.5 } }, 'Attributes.BytesStored: must be a non-negative integer'],
        ['FileCount "12"', { Attributes: { FileCount: '12' } }, null],
        ['UserCopies "x"', { Attributes: { UserCopies: 'x' } }, 'Attributes.UserCopies: must be a non-negative integer'],
        ['CollectionInterval zero', { Attributes: { CollectionInterval: 0 } }, 'Attributes.CollectionInterval: must be a positive number'],
        ['CollectionInterval "0.5"', { Attributes: { CollectionInterval: '0.5' } }, null],
        ['MediaType a number', { Attributes: { MediaType: 3 } }, 'Attributes.MediaType: must be a string'],
        ['Charge negative', { Charge: -1 }, 'Charge: must not be negative'],
      ];
      it.each(storageCases)('Storage: %s', async (_name, overrides, error) => {
        expect(await errorOf('Storage', storage(1, overrides))).toBe(error);
      });

      const adjustmentCases: [string, Record<string, unknown>, string | null][] = [
        ['AdjustmentType missing', { AdjustmentType: undefined }, 'AdjustmentType: required'],
        ['AdjustmentType unknown', { AdjustmentType: 'bonus' }, 'AdjustmentType: must be one of credit, refund, storage-credit, debit, reservation, storage-debit'],
        ['AdjustmentType a number', { AdjustmentType: 1 }, 'AdjustmentType: must be one of credit, refund, storage-credit, debit, reservation, storage-debit'],
        ['StartTime bad', { StartTime: '2024-05-01X' }, 'StartTime: not a valid date-time'],
        ['Comment over 1024', { Comment: 'c'.repeat(1025) }, 'Comment: must be at most 1024 characters'],
        ['Comment of 1024', { Comment: 'c'.repeat(1024) }, null],
        ['Comment a number', { Comment: 1 }, 'Comment: must be a string'],
        ['Username missing', { Username: undefined }, 'Username: required'],
      ];
      it.each(adjustmentCases)('Adjustment: %s', async (_name, overrides, error) => {
        expect(await errorOf('Adjustment', adjustment(1, overrides))).toBe(error);
      });

      it('fails every later occurrence of the same (Resource, LocalRecordID) in one message', async () => {
        const res = await send({
          UsageType: 'Compute',
          Records: [compute(1, { LocalRecordID: 123 }), compute(2), compute(1, { LocalRecordID: '123', Charge: 3 }), compute(1, { LocalRecordID: 123, Resource: 'cluster-b' })],
        }).expect(200);
        expect(res.body.QueuedRecordCount).toBe(3);
        expect(res.body.ValidationFailedRecords).toEqual([expect.objectContaining({ Error: 'LocalRecordID: duplicate in this message', Charge: 3 })]);
      });

      it('echoes a failed record with every field of its table, Attributes as an object, ParentRecordID unwrapped', async () => {
        const res = await send({ UsageType: 'Compute', Records: [{ LocalRecordID: 'r1', Charge: -1, ParentRecordID: ['p1'], Attributes: 'bad', Extra: 'kept' }] }).expect(200);
        const entry = res.body.ValidationFailedRecords[0];
        expect(entry).toEqual({
          UsageType: 'Compute',
          Error: expect.stringContaining('Username: required'),
          FailedRecordID: expect.any(Number),
          Username: null,
          LocalProjectID: null,
          LocalRecordID: 'r1',
          Resource: null,
          SubmitTime: null,
          StartTime: null,
          EndTime: null,
          Charge: -1,
          Attributes: {},
          ParentRecordID: 'p1',
          LocalReference: null,
          Extra: 'kept',
        });
      });

      it('echoes an adjustment with AdjustmentType lower-case and a storage record in the documented shape', async () => {
        const a = await send({ UsageType: 'Adjustment', Records: [adjustment(1, { AdjustmentType: 'CREDIT', Charge: 'x' })] }).expect(200);
        expect(a.body.ValidationFailedRecords[0]).toMatchObject({ UsageType: 'Adjustment', AdjustmentType: 'credit', Comment: 'why', LocalReference: null });
        const s = await send({ UsageType: 'Storage', Records: [storage(1, { Charge: 'x' })] }).expect(200);
        expect(s.body.ValidationFailedRecords[0]).toMatchObject({ UsageType: 'Storage', CollectionTime: expect.any(String), LocalReference: null, Attributes: expect.any(Object) });
      });

      it('gives FailedRecordIDs in submission order', async () => {
        const res = await send({ UsageType: 'Compute', Records: [compute(1, { Charge: -1 }), compute(2), compute(3, { Charge: -1 })] }).expect(200);
        const [a, b] = res.body.ValidationFailedRecords.map((r: { FailedRecordID: number; LocalRecordID: string }) => r);
        expect(a.LocalRecordID).toBe('job-1');
        expect(b.LocalRecordID).toBe('job-3');
        expect(b.FailedRecordID).toBeGreaterThan(a.FailedRecordID);
      });
    });
  });

  describe('text PostgreSQL cannot store (NUL, unpaired surrogates)', () => {
    const NUL = 'must not contain NUL characters';

    it('fails only the record holding a NUL, loads the rest, and groups the failure in status', async () => {
      const res = await send({ UsageType: 'Compute', Records: [compute(1), compute(2, { Username: 'j\u0000' }), compute(3)] }).expect(200);
      expect(res.body).toMatchObject({ ReceivedRecordCount: 3, QueuedRecordCount: 2, ValidationFailedRecordCount: 1 });
      const [entry] = res.body.ValidationFailedRecords;
      // The echo cannot hold the NUL either: it reads U+FFFD in its place.
      expect(entry).toMatchObject({ UsageType: 'Compute', Error: `Username: ${NUL}`, Username: 'j\uFFFD', LocalRecordID: 'job-2', Resource: 'cluster-a' });
      await waitLoaded(t);
      const st = (await status().expect(200)).body;
      expect(st).toEqual([
        expect.objectContaining({
          Resource: 'cluster-a',
          LoadedRecordCount: 2,
          FailedJobCount: 1,
          Errors: [expect.objectContaining({ Error: `Username: ${NUL}`, UsageType: 'Compute', RecordCount: 1, Records: [expect.objectContaining({ FailedRecordID: entry.FailedRecordID })] })],
        }),
      ]);
      expect((await failed().expect(200)).body.ValidationFailedRecords).toEqual([expect.objectContaining({ FailedRecordID: entry.FailedRecordID, Error: `Username: ${NUL}` })]);
      // A corrected resubmission clears it, as for any failure of an identity.
      await send({ UsageType: 'Compute', Records: [compute(2)] }).expect(200);
      await waitLoaded(t);
      expect((await failed().expect(200)).body.FailedRecordCount).toBe(0);
    });

    const cases: [string, string, Record<string, unknown>, string][] = [
      ['an identifier', 'Compute', compute(1, { LocalProjectID: '\u0000' }), `LocalProjectID: ${NUL}`],
      ['a date-time', 'Compute', compute(1, { SubmitTime: '2024-05-01T00:00:00Z\u0000' }), `SubmitTime: ${NUL}`],
      ['a charge', 'Compute', compute(1, { Charge: '1\u0000' }), `Charge: ${NUL}`],
      ['ParentRecordID', 'Compute', compute(1, { ParentRecordID: ['1\u0000'] }), `ParentRecordID: ${NUL}`],
      ['LocalReference', 'Compute', compute(1, { LocalReference: 'ref\u0000' }), `LocalReference: ${NUL}`],
      ['an attribute', 'Compute', compute(1, { Attributes: { NodeCount: 1, JobName: 'a\u0000b' } }), `Attributes.JobName: ${NUL}`],
      ['an unknown attribute', 'Storage', storage(1, { Attributes: { Extra: ['x', 'y\u0000'] } }), `Attributes.Extra: ${NUL}`],
      ['an attribute name', 'Storage', storage(1, { Attributes: { 'Media\u0000Type': 'disk' } }), `Attributes.Media\uFFFDType: ${NUL}`],
      ['an unknown field, deep down', 'Compute', compute(1, { Site: { a: [{ b: 'c\u0000' }] } }), `Site: ${NUL}`],
      ['a field name', 'Compute', compute(1, { 'Cluster\u0000': 'x' }), `Cluster\uFFFD: ${NUL}`],
      ['AdjustmentType', 'Adjustment', adjustment(1, { AdjustmentType: 'credit\u0000' }), `AdjustmentType: ${NUL}`],
      ['Comment', 'Adjustment', adjustment(1, { Comment: '\u0000' }), `Comment: ${NUL}`],
      ['Username, as an unpaired surrogate', 'Compute', compute(1, { Username: 'j\ud800' }), 'Username: must not contain unpaired surrogates'],
      ['an unknown field, as an unpaired surrogate', 'Storage', storage(1, { Note: ['\udc00x'] }), 'Note: must not contain unpaired surrogates'],
    ];
    it.each(cases)('fails a record with a NUL in %s, naming the field', async (_name, type, record, error) => {
      const res = await send({ UsageType: type, Records: [record] }).expect(200);
      expect(res.body.ValidationFailedRecords).toEqual([expect.objectContaining({ Error: error })]);
      expect((await failed().expect(200)).body.ValidationFailedRecords).toEqual([expect.objectContaining({ Error: error })]);
    });

    it('keeps the field-table order with the other problems, and groups a NUL Resource under ""', async () => {
      const res = await send({ UsageType: 'Compute', Records: [compute(1, { Resource: 'r\u0000', Charge: -1, Extra: '\u0000' })] }).expect(200);
      expect(res.body.ValidationFailedRecords[0].Error).toBe(`Resource: ${NUL}; Charge: must not be negative; Extra: ${NUL}`);
      expect((await status().expect(200)).body).toEqual([expect.objectContaining({ Resource: '', FailedJobCount: 1 })]);
    });

    it('accepts paired surrogates (emoji) and U+FFFD', async () => {
      const res = await send({ UsageType: 'Compute', Records: [compute(1, { Username: 'j😀\uFFFD', Attributes: { NodeCount: 1, JobName: '💡' } })] }).expect(200);
      expect(res.body.QueuedRecordCount).toBe(1);
      await waitLoaded(t);
      expect((await status().expect(200)).body[0].LoadedRecordCount).toBe(1);
    });

    it('answers 400 naming the field for a NUL outside Records, and stores nothing', async () => {
      expect((await send({ UsageType: 'Compute\u0000', Records: [compute(1)] }).expect(400)).body).toEqual({ error: `UsageType: ${NUL}` });
      expect((await send({ UsageType: 'Compute', Records: [compute(1)], Note: { a: 'x\u0000' } }).expect(400)).body).toEqual({ error: `Note: ${NUL}` });
      const [{ n }] = await db().query(`SELECT (SELECT count(*) FROM amie_usage_batch) + (SELECT count(*) FROM amie_usage_failed_record) AS n`);
      expect(Number(n)).toBe(0);
    });

    it('answers 400 naming the field for a NUL in the ids of a clear or in a status bound, and clears nothing', async () => {
      const [id] = (await send({ UsageType: 'Compute', Records: [compute(1, { Charge: -1 })] }).expect(200)).body.ValidationFailedRecords.map((r: { FailedRecordID: number }) => r.FailedRecordID);
      expect((await t.http.delete(`/amie/usage/failed/${id}%00`).set(site.headers).expect(400)).body).toEqual({ error: expect.stringContaining('FailedRecordIDs') });
      expect((await t.http.delete(`/amie/usage/failed/${id},%00`).set(site.headers).expect(400)).body).toEqual({ error: expect.stringContaining('FailedRecordIDs') });
      expect((await failed().expect(200)).body.FailedRecordCount).toBe(1);
      expect((await status('?FromTime=2024-05-01%00').expect(400)).body).toEqual({ error: expect.stringContaining('FromTime') });
    });
  });

  describe('loading: identity and resubmission', () => {
    const ledger = () => db().query(`SELECT usage_type, resource, local_record_id, charge::text FROM amie_usage_record ORDER BY 1, 2, 3`);

    it('loads the same batch sent twice once', async () => {
      const body = { UsageType: 'Compute', Records: [compute(1), compute(2)] };
      await send(body).expect(200);
      await send(body).expect(200);
      await waitLoaded(t);
      const st = await status().expect(200);
      expect(st.body[0]).toMatchObject({ LoadedRecordCount: 2, TotalCharge: 21 });
    });

    it('applies the latest received version (10 then 25 ends at 25)', async () => {
      await send({ UsageType: 'Compute', Records: [compute(1, { Charge: 10 })] }).expect(200);
      await send({ UsageType: 'Compute', Records: [compute(1, { Charge: 25 })] }).expect(200);
      await waitLoaded(t);
      expect(await ledger()).toEqual([{ usage_type: 'Compute', resource: 'cluster-a', local_record_id: 'job-1', charge: '25' }]);
    });

    it('discards an older version that a worker finishes after a newer one', async () => {
      await send({ UsageType: 'Compute', Records: [compute(1, { Charge: 10 })] }).expect(200);
      await send({ UsageType: 'Compute', Records: [compute(1, { Charge: 25 })] }).expect(200);
      await waitLoaded(t);
      const batches: { id: string }[] = await db().query(`SELECT id::text FROM amie_usage_batch ORDER BY id`);
      // Replay: both pending again, the newer loaded first, then the older.
      await db().query(`DELETE FROM amie_usage_record`);
      await db().query(`UPDATE amie_usage_batch SET state = 'pending'`);
      const loader = t.app.get(UsageLoaderService);
      expect(await loader.loadBatch(batches[1].id)).toEqual({ loaded: 1 });
      expect(await loader.loadBatch(batches[0].id)).toEqual({ loaded: 0 });
      expect((await ledger())[0].charge).toBe('25');
      // A second delivery of a loaded batch does nothing.
      expect(await loader.loadBatch(batches[1].id)).toBeNull();
    });

    it('keeps the loaded version when a resend fails, and counts both', async () => {
      await send({ UsageType: 'Compute', Records: [compute(1, { Charge: 10 })] }).expect(200);
      await waitLoaded(t);
      await send({ UsageType: 'Compute', Records: [compute(1, { Charge: -1 })] }).expect(200);
      const st = await status().expect(200);
      expect(st.body[0]).toMatchObject({ LoadedRecordCount: 1, TotalCharge: 10, FailedJobCount: 1 });
    });

    it('clears the old failure when a corrected record loads', async () => {
      await send({ UsageType: 'Compute', Records: [compute(1, { Charge: -1 })] }).expect(200);
      expect((await failed().expect(200)).body.FailedRecordCount).toBe(1);
      await send({ UsageType: 'Compute', Records: [compute(1, { Charge: 1 })] }).expect(200);
      await waitLoaded(t);
      expect((await failed().expect(200)).body).toEqual({ ValidationFailedRecords: [], FailedRecordCount: 0 });
    });

    it('keeps at most one outstanding failure per identity', async () => {
      await send({ UsageType: 'Compute', Records: [compute(1, { Charge: -1 })] }).expect(200);
      await send({ UsageType: 'Compute', Records: [compute(1, { Charge: 'x' })] }).expect(200);
      const list = (await failed().expect(200)).body.ValidationFailedRecords;
      expect(list).toHaveLength(1);
      expect(list[0].Error).toBe('Charge: must be a number');
    });

    it('does not clear a newer failure when an older version loads later', async () => {
      await send({ UsageType: 'Compute', Records: [compute(1, { Charge: 1 })] }).expect(200);
      await waitLoaded(t);
      await send({ UsageType: 'Compute', Records: [compute(1, { Charge: -1 })] }).expect(200);
      const [{ id }] = await db().query(`SELECT id::text FROM amie_usage_batch`);
      await db().query(`UPDATE amie_usage_batch SET state = 'pending'`);
      await db().query(`DELETE FROM amie_usage_record`);
      await t.app.get(UsageLoaderService).loadBatch(id);
      expect((await failed().expect(200)).body.FailedRecordCount).toBe(1);
    });

    it('treats the same LocalRecordID on two resources, or as compute and adjustment, as distinct records', async () => {
      await send({ UsageType: 'Compute', Records: [compute(1), compute(1, { Resource: 'cluster-b' })] }).expect(200);
      await send({ UsageType: 'Adjustment', Records: [adjustment(1, { LocalRecordID: 'job-1', AdjustmentType: 'refund' })] }).expect(200);
      await waitLoaded(t);
      expect(await ledger()).toHaveLength(3);
    });

    it('sets ProcessedAt again when identical content is resubmitted', async () => {
      await send({ UsageType: 'Compute', Records: [compute(1)] }).expect(200);
      await waitLoaded(t);
      await db().query(`UPDATE amie_usage_record SET processed_at = '2020-01-01T00:00:00Z'`);
      await send({ UsageType: 'Compute', Records: [compute(1)] }).expect(200);
      await waitLoaded(t);
      const st = await status(`?FromTime=${encodeURIComponent(iso(Date.now() - 60_000))}`).expect(200);
      expect(st.body[0].LoadedRecordCount).toBe(1);
    });

    it('marks the records failed with "internal processing error" when a batch fails every attempt, and keeps the job', async () => {
      const q = await startUsageApp({ QUEUE_RETRY_DELAY_MS: '5' });
      try {
        const s = await createSite(q, 'site-retry');
        // A batch whose stored charge cannot be cast: loading fails every time.
        await q.runtime.dataSource.query(`DROP TABLE IF EXISTS amie_usage_test_marker`);
        const res = await q.http.post('/amie/usage/').set(s.headers).send({ UsageType: 'Compute', Records: [compute(1)] });
        expect(res.status).toBe(200);
        // Let the first (normal) load happen, then make an un-loadable batch by hand.
        await waitLoaded(q);
        await q.runtime.dataSource.query(
          `INSERT INTO amie_usage_batch (id, site, usage_type, record_count, resource_counts, records)
           SELECT nextval('amie_usage_receipt_seq'), 'site-retry', 'Compute', 1, '{"cluster-a": 1}',
                  jsonb_build_array(jsonb_build_object('n', 0, 'r', 'cluster-a', 'i', 'job-1', 'p', 'P', 'u', 'U', 'c', 'not-a-number', 'a', null, 's', null, 'e', null, 'd', '{"LocalRecordID": "job-1"}'::jsonb))`,
        );
        const [{ id }] = await q.runtime.dataSource.query(`SELECT max(id)::text AS id FROM amie_usage_batch`);
        const jobs = q.app.get(JobQueueService);
        await jobs.enqueue('usage.load-batch', { batchId: id }, { jobId: `usage-batch-${id}` });
        await waitLoaded(q, 30_000);
        const list = (await q.http.get('/amie/usage/failed').set(s.headers).expect(200)).body.ValidationFailedRecords;
        expect(list).toEqual([expect.objectContaining({ Error: 'internal processing error', LocalRecordID: 'job-1', UsageType: 'Compute' })]);
        const [batch] = await q.runtime.dataSource.query(`SELECT state, last_error FROM amie_usage_batch WHERE id = $1`, [id]);
        expect(batch.state).toBe('failed');
        expect(batch.last_error).toMatch(/numeric/);
        // The loaded version stays loaded.
        const st = (await q.http.get('/amie/usage/status').set(s.headers).expect(200)).body;
        expect(st[0]).toMatchObject({ LoadedRecordCount: 1, FailedJobCount: 1 });
        if (jobs.mode === 'bullmq') expect(await jobs.jobState(`usage-batch-${id}`)).toBe('failed');
      } finally {
        await q.close();
      }
    });
  });

  describe('GET /amie/usage/status', () => {
    it('answers [] when nothing happened', async () => {
      expect((await status().expect(200)).body).toEqual([]);
    });

    it('reports each resource, sorted by name, with groups of failures by (Error, UsageType)', async () => {
      await send({ UsageType: 'Compute', Records: [compute(1, { Resource: 'zeta' }), compute(2, { Charge: -1 }), compute(3, { Charge: -2 }), compute(4, { Charge: 'x' })] }).expect(200);
      await send({ UsageType: 'Adjustment', Records: [adjustment(1, { Charge: -1 })] }).expect(200);
      await send({ UsageType: 'Storage', Records: [storage(1, { Resource: null })] }).expect(200);
      await waitLoaded(t);
      const st = (await status().expect(200)).body;
      expect(st.map((e: { Resource: string }) => e.Resource)).toEqual(['', 'cluster-a', 'zeta']);
      expect(st[0]).toMatchObject({ FailedJobCount: 1, LoadedRecordCount: 0, Errors: [expect.objectContaining({ Error: 'Resource: required', UsageType: 'Storage' })] });
      const a = st[1];
      expect(a).toMatchObject({ Resource: 'cluster-a', LoadedRecordCount: 0, FailedJobCount: 4, TotalCharge: 0, PendingRecordCount: 0 });
      expect(a.Errors.map((g: { Error: string; UsageType: string; RecordCount: number }) => [g.Error, g.UsageType, g.RecordCount])).toEqual([
        ['Charge: must be a number', 'Compute', 1],
        ['Charge: must not be negative', 'Adjustment', 1],
        ['Charge: must not be negative', 'Compute', 2],
      ]);
      const group = a.Errors[2];
      expect(group.Records.map((r: { LocalRecordID: string }) => r.LocalRecordID)).toEqual(['job-2', 'job-3']);
      for (const r of group.Records) {
        expect(r).toMatchObject({ UsageType: 'Compute', Error: 'Charge: must not be negative', FailedRecordID: expect.any(Number) });
        for (const key of ['Username', 'LocalProjectID', 'LocalRecordID', 'Resource', 'SubmitTime', 'StartTime', 'EndTime', 'Charge', 'Attributes', 'ParentRecordID', 'LocalReference']) {
          expect(r).toHaveProperty(key);
        }
      }
      expect(st[2]).toMatchObject({ Resource: 'zeta', LoadedRecordCount: 1, TotalCharge: 10.5, FailedJobCount: 0, Errors: [] });
    });

    it('lists at most 1000 records per group and gives the full count', async () => {
      const records = Array.from({ length: 1001 }, (_, i) => compute(i, { Charge: -1 }));
      await send({ UsageType: 'Compute', Records: records }).expect(200);
      const [entry] = (await status().expect(200)).body;
      expect(entry.FailedJobCount).toBe(1001);
      expect(entry.Errors[0].RecordCount).toBe(1001);
      expect(entry.Errors[0].Records).toHaveLength(1000);
    });

    it('counts records still queued as PendingRecordCount', async () => {
      await db().query(
        `INSERT INTO amie_usage_batch (id, site, usage_type, record_count, resource_counts, records)
         VALUES (nextval('amie_usage_receipt_seq'), 'site-a', 'Compute', 3, '{"cluster-a": 2, "cluster-b": 1}', '[]')`,
      );
      const st = (await status().expect(200)).body;
      expect(st).toEqual([
        expect.objectContaining({ Resource: 'cluster-a', PendingRecordCount: 2, LoadedRecordCount: 0 }),
        expect.objectContaining({ Resource: 'cluster-b', PendingRecordCount: 1 }),
      ]);
    });

    it('counts over [FromTime, ToTime) of processing time', async () => {
      await send({ UsageType: 'Compute', Records: [compute(1), compute(2)] }).expect(200);
      await waitLoaded(t);
      await db().query(`UPDATE amie_usage_record SET processed_at = '2024-05-01T12:00:00Z' WHERE local_record_id = 'job-1'`);
      await db().query(`UPDATE amie_usage_record SET processed_at = '2024-05-02T12:00:00Z' WHERE local_record_id = 'job-2'`);
      const count = async (q: string) => ((await status(q).expect(200)).body[0]?.LoadedRecordCount ?? 0) as number;
      expect(await count('?FromTime=2024-05-01T12:00:00&ToTime=2024-05-02T12:00:00')).toBe(1);
      expect(await count('?FromTime=2024-05-01T12:00:00.000001')).toBe(1);
      expect(await count('?ToTime=2024-05-02T12:00:00.001')).toBe(2);
      expect(await count('?FromTime=2024-05-01&ToTime=2024-05-03')).toBe(2);
      expect(await count('?FromTime=2024-05-01T14:00:00%2B02:00&ToTime=2024-05-01T14:00:01%2B02:00')).toBe(1);
      // An unencoded "+" arrives as a space and is read as "+".
      expect(await count('?FromTime=2024-05-01T14:00:00+02:00&ToTime=2024-05-01T14:00:01+02:00')).toBe(1);
      expect(await count('?FromTime=&ToTime=')).toBe(2);
      expect(await count('?FromTime=2024-06-01')).toBe(0);
    });

    it('answers 400 for an unparseable bound or FromTime after ToTime', async () => {
      expect((await status('?FromTime=yesterday').expect(400)).body).toEqual({ error: 'FromTime: not a valid date-time' });
      expect((await status('?ToTime=2024-05-40').expect(400)).body).toEqual({ error: 'ToTime: not a valid date-time' });
      expect((await status('?FromTime=2024-05-02&ToTime=2024-05-01').expect(400)).body).toEqual({ error: 'FromTime: later than ToTime' });
    });

    it('reads an empty bound as absent and the first of a repeated one; answers 400 naming an unknown parameter', async () => {
      await send({ UsageType: 'Compute', Records: [compute(1)] }).expect(200);
      await waitLoaded(t);
      expect((await status('?FromTime=&ToTime=').expect(200)).body).toHaveLength(1);
      expect((await status('?FromTime=2000-01-01&FromTime=2999-01-01').expect(200)).body).toHaveLength(1);
      expect((await status('?ToTime=2000-01-01&ToTime=2999-01-01').expect(200)).body).toEqual([]);
      expect((await status('?fromtime=2999-01-01').expect(400)).body).toEqual({ error: 'fromtime is not a known field' });
    });

    it("never shows another site's records", async () => {
      const other = await createSite(t, 'site-b');
      await send({ UsageType: 'Compute', Records: [compute(1), compute(2, { Charge: -1 })] }, other).expect(200);
      await waitLoaded(t);
      expect((await status().expect(200)).body).toEqual([]);
      expect((await status('', other).expect(200)).body).toHaveLength(1);
    });

    it('keeps two sites with the same resource and record ids apart', async () => {
      const other = await createSite(t, 'site-b');
      await send({ UsageType: 'Compute', Records: [compute(1, { Charge: 1 })] }).expect(200);
      await send({ UsageType: 'Compute', Records: [compute(1, { Charge: 2 })] }, other).expect(200);
      await waitLoaded(t);
      expect((await status().expect(200)).body[0].TotalCharge).toBe(1);
      expect((await status('', other).expect(200)).body[0].TotalCharge).toBe(2);
    });
  });

  describe('GET /amie/usage/failed', () => {
    it('lists every outstanding failure of the site by FailedRecordID, with FailedAt', async () => {
      const other = await createSite(t, 'site-b');
      await send({ UsageType: 'Compute', Records: [compute(1, { Charge: -1 })] }).expect(200);
      await send({ UsageType: 'Storage', Records: [storage(1, { Charge: -1 })] }).expect(200);
      await send({ UsageType: 'Compute', Records: [compute(9, { Charge: -1 })] }, other).expect(200);
      const res = await failed().expect(200);
      expect(res.body.FailedRecordCount).toBe(2);
      const list = res.body.ValidationFailedRecords;
      expect(list.map((r: { UsageType: string }) => r.UsageType)).toEqual(['Compute', 'Storage']);
      expect(list[1].FailedRecordID).toBeGreaterThan(list[0].FailedRecordID);
      expect(list[0].FailedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(list[0]).toMatchObject({ Error: 'Charge: must not be negative', LocalRecordID: 'job-1', Charge: -1 });
    });

    it('serves the trailing-slash form', async () => {
      await t.http.get('/amie/usage/failed/').set(site.headers).expect(200);
    });
  });

  describe('DELETE /amie/usage/failed/{ids}', () => {
    async function failures(n: number, creds = site): Promise<number[]> {
      const res = await send({ UsageType: 'Compute', Records: Array.from({ length: n }, (_, i) => compute(`f${i}`, { Charge: -1 })) }, creds).expect(200);
      return res.body.ValidationFailedRecords.map((r: { FailedRecordID: number }) => r.FailedRecordID);
    }
    const del = (path: string, creds = site) => t.http.delete(`/amie/usage/failed${path}`).set(creds.headers);

    it('clears the listed ids; duplicates count once; unknown ids are ignored', async () => {
      const ids = await failures(3);
      const res = await del(`/${ids[0]},${ids[1]},${ids[0]},999999999`).expect(200);
      expect(res.body).toEqual({ Message: '2 failed records cleared', ClearedRecordCount: 2 });
      const left = (await failed().expect(200)).body.ValidationFailedRecords;
      expect(left.map((r: { FailedRecordID: number }) => r.FailedRecordID)).toEqual([ids[2]]);
      expect((await status().expect(200)).body[0].FailedJobCount).toBe(1);
      // Already cleared: nothing more.
      expect((await del(`/${ids[0]}`).expect(200)).body.ClearedRecordCount).toBe(0);
    });

    it('clears one id', async () => {
      const [id] = await failures(1);
      expect((await del(`/${id}`).expect(200)).body.ClearedRecordCount).toBe(1);
    });

    it("ignores another site's ids", async () => {
      const other = await createSite(t, 'site-b');
      const ids = await failures(2, other);
      expect((await del(`/${ids.join(',')}`).expect(200)).body.ClearedRecordCount).toBe(0);
      expect((await failed(other).expect(200)).body.FailedRecordCount).toBe(2);
    });

    it('clears every outstanding failure of the site with "all", and only those', async () => {
      const other = await createSite(t, 'site-b');
      await failures(3);
      await failures(1, other);
      expect((await del('/all').expect(200)).body).toEqual({ Message: '3 failed records cleared', ClearedRecordCount: 3 });
      expect((await failed().expect(200)).body.FailedRecordCount).toBe(0);
      expect((await failed(other).expect(200)).body.FailedRecordCount).toBe(1);
    });

    it('clears nothing for an empty list (with or without the slash)', async () => {
      await failures(2);
      expect((await del('').expect(200)).body).toEqual({ Message: '0 failed records cleared', ClearedRecordCount: 0 });
      expect((await del('/').expect(200)).body.ClearedRecordCount).toBe(0);
      expect((await failed().expect(200)).body.FailedRecordCount).toBe(2);
    });

    it.each(['abc', '1,,2', '0', '-1', 'all,1', '1.5', '1,'])('answers 400 for %s and clears nothing', async (ids) => {
      await failures(1);
      const res = await del(`/${ids}`).expect(400);
      expect(res.body).toEqual({ error: expect.stringContaining('FailedRecordID') });
      expect((await failed().expect(200)).body.FailedRecordCount).toBe(1);
    });

    it('ignores an id beyond any FailedRecordID', async () => {
      await failures(1);
      expect((await del('/99999999999999999999999').expect(200)).body.ClearedRecordCount).toBe(0);
    });

    it('answers 401 without credentials', async () => {
      await t.http.delete('/amie/usage/failed/all').expect(401);
    });
  });

  describe('unknown paths and methods under /amie', () => {
    it('answers 404 with a JSON error', async () => {
      expect((await t.http.get('/amie/usage/nope').set(site.headers).expect(404)).body).toEqual({ error: expect.any(String) });
    });

    it('answers 405 with Allow for a wrong method', async () => {
      const res = await t.http.put('/amie/usage/').set(site.headers).send({}).expect(405);
      expect(res.headers.allow).toBe('POST');
      expect(res.body).toEqual({ error: expect.any(String) });
    });
  });
});
