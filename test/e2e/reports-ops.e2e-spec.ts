import { OpsLoops } from '../../src/reports/ops/ops-loops.service';
import { SourceSeenRecorder } from '../../src/reports/ops/source-seen.recorder';
import { compute, createSite, startUsageApp, waitLoaded } from '../support/amie';
import { until } from '../support/processes';
import { almanach, drainRollups, seenRows, resetWithOps } from '../support/reports';
import { APP_START_TIMEOUT_MS, ADMIN_TOKEN, TestApp } from '../support/test-app';

/**
 * The operations views of reports.md §9.2 through the front door, and the
 * source freshness of §9.1 they show: GET /reports/ops/freshness,
 * GET /reports/ops/queues, GET /reports/amie/failures.
 */
describe('reports operations views (reports.md §9.2)', () => {
  let t: TestApp;
  let reader: string;

  beforeAll(async () => {
    t = await startUsageApp({ CLOUD_SITE: 'cloud-x', SOURCE_SILENCE_SECONDS: 'amie=600', NOTIFICATIONS_QUEUE: 'ledger.notifications' });
  }, APP_START_TIMEOUT_MS);
  afterAll(async () => {
    await t?.close();
  });
  beforeEach(async () => {
    await resetWithOps(t);
    reader = await t.token('reader');
  });

  const get = (path: string, token = reader) => t.http.get(path).set('X-Auth-Token', token);
  const hourAgo = () => new Date(Date.now() - 3_600_000).toISOString();

  describe('GET /reports/ops/freshness', () => {
    it('answers no sources and an idle rollup on an empty ledger', async () => {
      const res = await get('/reports/ops/freshness').expect(200);
      expect(res.body).toEqual({
        sources: [],
        rollup: { dirty_keys: 0, lag_seconds: 0, booked_horizon: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/), day_roll_at: expect.any(String) },
      });
    });

    it('records Almanach 2xx writes by token name at CLOUD_SITE, AMIE submissions that queued records by site, and the collector receipts; sorted', async () => {
      const nova = await t.token('service', { name: 'nova-writer' });
      await almanach(t, nova).createInstance('p1', 'i1', hourAgo());
      // Not accepted writes and reads leave nothing.
      await t.http.post('/v1/project/p1/instance').set('X-Auth-Token', await t.token('service', { name: 'refused-writer' })).send({ id: 'i2' }).expect(400);
      await t.http.get('/v1/project/p1/instances?start=2020-01-01 00:00:00.000').set('X-Auth-Token', await t.token('reader', { name: 'almanach-reader' }));
      const siteB = await createSite(t, 'site-b');
      await t.http.post('/amie/usage').set(siteB.headers).send({ UsageType: 'Compute', Records: [compute(1)] }).expect(200);
      // A submission whose every record failed validation queued nothing: not an accepted event.
      const siteA = await createSite(t, 'site-a');
      const failed = await t.http.post('/amie/usage').set(siteA.headers).send({ UsageType: 'Compute', Records: [compute(2, { Charge: '-1' })] }).expect(200);
      expect(failed.body.QueuedRecordCount).toBe(0);
      await t.runtime.dataSource.query(`INSERT INTO notification_receipts (message_id, event_type, received_at) VALUES ('m-1', 'compute.instance.create.end', now() - interval '5 minutes')`);
      await t.app.get(OpsLoops).copyReceipt();
      await waitLoaded(t);
      await seenRows(t, 3);

      const res = await get('/reports/ops/freshness').expect(200);
      expect(res.body.sources).toEqual([
        { source: 'almanach', site: 'cloud-x', collector: 'nova-writer', last_event_at: expect.any(String), age_seconds: expect.any(Number), silent: false, threshold_seconds: 3600 },
        { source: 'amie', site: 'site-b', collector: 'site-b', last_event_at: expect.any(String), age_seconds: expect.any(Number), silent: false, threshold_seconds: 600 },
        { source: 'notifications', site: 'cloud-x', collector: 'ledger.notifications', last_event_at: expect.any(String), age_seconds: expect.any(Number), silent: false, threshold_seconds: 3600 },
      ]);
      const [almanachRow, , notifications] = res.body.sources;
      expect(Date.now() - Date.parse(almanachRow.last_event_at)).toBeLessThan(60_000);
      expect(notifications.age_seconds).toBeGreaterThanOrEqual(299);
      expect(notifications.age_seconds).toBeLessThan(400);
    });

    it('says a source is silent once its age passes its threshold (SOURCE_SILENCE_SECONDS), and keeps the row', async () => {
      const siteB = await createSite(t, 'site-b');
      await t.http.post('/amie/usage').set(siteB.headers).send({ UsageType: 'Compute', Records: [compute(1)] }).expect(200);
      await seenRows(t, 1);
      await t.runtime.dataSource.query(`UPDATE report_source_seen SET last_event_at = now() - interval '601 seconds'`);
      const [row] = (await get('/reports/ops/freshness').expect(200)).body.sources;
      expect(row).toMatchObject({ source: 'amie', site: 'site-b', silent: true, threshold_seconds: 600 });
      expect(row.age_seconds).toBeGreaterThan(600);
      // A new accepted submission makes it fresh again (the recorder writes a key at most once a
      // second: forget this second's write, as a later second would).
      t.app.get(SourceSeenRecorder).forgetWrites();
      await t.http.post('/amie/usage').set(siteB.headers).send({ UsageType: 'Compute', Records: [compute(2)] }).expect(200);
      await until('the source to be fresh again', async () => !(await get('/reports/ops/freshness').expect(200)).body.sources[0].silent, 10_000, 20);
      await waitLoaded(t);
    });

    it('shows the dirty keys and their lag until the rollup worker drains them', async () => {
      await almanach(t, await t.token('service')).createInstance('p1', 'i1', hourAgo());
      const before = (await get('/reports/ops/freshness').expect(200)).body.rollup;
      expect(before.dirty_keys).toBeGreaterThan(0);
      expect(before.lag_seconds).toBeGreaterThanOrEqual(0);
      await drainRollups(t);
      const after = (await get('/reports/ops/freshness').expect(200)).body.rollup;
      expect(after).toMatchObject({ dirty_keys: 0, lag_seconds: 0 });
    });

    it('answers 400 naming an unknown parameter', async () => {
      const res = await get('/reports/ops/freshness?site=x').expect(400);
      expect(res.body).toEqual({ error: 'site: not a known parameter', fields: { site: 'not a known parameter' } });
    });
  });

  describe('GET /reports/ops/queues', () => {
    it('answers the jobs queue now, and no history unless asked', async () => {
      const res = await get('/reports/ops/queues').expect(200);
      expect(res.body).toEqual({
        queues: [{ queue: 'jobs', waiting: expect.any(Number), active: expect.any(Number), delayed: expect.any(Number), failed: expect.any(Number), oldest_waiting_age_seconds: expect.any(Number) }],
        history: [],
      });
    });

    it('adds the 15-second samples of the span asked, oldest first', async () => {
      const loops = t.app.get(OpsLoops);
      const now = Date.now();
      await loops.sample(now - 2 * 3_600_000);
      await loops.sample(now - 30_000);
      await loops.sample(now);
      await loops.sample(now); // the same slot: one row
      const hour = (await get('/reports/ops/queues?history=1h').expect(200)).body.history;
      expect(hour).toHaveLength(2);
      expect(hour[0]).toEqual({ at: expect.any(String), queue: 'jobs', waiting: expect.any(Number), active: expect.any(Number), delayed: expect.any(Number), failed: expect.any(Number) });
      expect(Date.parse(hour[0].at)).toBeLessThan(Date.parse(hour[1].at));
      expect(Date.parse(hour[1].at) % 15_000).toBe(0);
      expect((await get('/reports/ops/queues?history=3h').expect(200)).body.history).toHaveLength(3);
      expect((await get('/reports/ops/queues?history=7d').expect(200)).body.history).toHaveLength(3);
      expect((await get('/reports/ops/queues?history=10080m').expect(200)).body.history).toHaveLength(3);
    });

    it.each(['8d', '169h', '10081m', '0h', '1w', 'h', '1.5h', '', '-1d'])('answers 400 naming history for history=%p', async (history) => {
      const res = await get(`/reports/ops/queues?history=${history}`).expect(400);
      expect(res.body).toEqual({ error: expect.stringMatching(/^history: /), fields: { history: expect.any(String) } });
    });

    it('answers 400 for a repeated history and for an unknown parameter', async () => {
      expect((await get('/reports/ops/queues?history=1h&history=2h').expect(400)).body.error).toMatch(/^history: /);
      expect((await get('/reports/ops/queues?queue=jobs').expect(400)).body).toEqual({ error: 'queue: not a known parameter', fields: { queue: 'not a known parameter' } });
    });
  });

  describe('GET /reports/amie/failures', () => {
    async function seed() {
      const a = await createSite(t, 'site-a');
      const b = await createSite(t, 'site-b');
      const send = (site: typeof a, records: Record<string, unknown>[]) => t.http.post('/amie/usage').set(site.headers).send({ UsageType: 'Compute', Records: records }).expect(200);
      await send(a, [compute(1, { Charge: '-1' }), compute(2, { Charge: '-2' }), compute(3, { Resource: null }), compute(4)]);
      await send(a, [compute(5, { Charge: '-1', Resource: 'cluster-b' })]);
      await send(b, [compute(1, { Charge: '-1' })]);
      await t.http.post('/amie/usage').set(b.headers).send({ UsageType: 'Storage', Records: [{ Username: 'jdoe', LocalProjectID: 'TG-ABC123', LocalRecordID: 's1', Resource: 'store-a', CollectionTime: new Date(Date.now() - 3_600_000).toISOString(), Charge: -5, Attributes: { BytesStored: 1, FileCount: 1, CollectionInterval: 1, MediaType: 'disk' } }] }).expect(200);
      await waitLoaded(t);
    }

    it('groups the outstanding failed records by site, resource ("" when missing), error and usage type, sorted, with their FailedAt span and the total', async () => {
      await seed();
      const res = await get('/reports/amie/failures').expect(200);
      const g = (site: string, resource: string, error: string, usage_type: string, count: number) => ({
        site, resource, error, usage_type, count, oldest_failed_at: expect.any(String), newest_failed_at: expect.any(String),
      });
      expect(res.body).toEqual({
        groups: [
          g('site-a', '', 'Resource: required', 'Compute', 1),
          g('site-a', 'cluster-a', 'Charge: must not be negative', 'Compute', 2),
          g('site-a', 'cluster-b', 'Charge: must not be negative', 'Compute', 1),
          g('site-b', 'cluster-a', 'Charge: must not be negative', 'Compute', 1),
          g('site-b', 'store-a', 'Charge: must not be negative', 'Storage', 1),
        ],
        total: 6,
      });
      const two = res.body.groups[1];
      expect(Date.parse(two.oldest_failed_at)).toBeLessThanOrEqual(Date.parse(two.newest_failed_at));
    });

    it('filters by site and by resource (empty: the records with no resource), and forgets cleared records', async () => {
      await seed();
      const a = (await get('/reports/amie/failures?site=site-a').expect(200)).body;
      expect(a.groups.map((x: { site: string }) => x.site)).toEqual(['site-a', 'site-a', 'site-a']);
      expect(a.total).toBe(4);
      const clusterA = (await get('/reports/amie/failures?resource=cluster-a').expect(200)).body;
      expect(clusterA.groups.map((x: { site: string; count: number }) => [x.site, x.count])).toEqual([['site-a', 2], ['site-b', 1]]);
      const none = (await get('/reports/amie/failures?resource=').expect(200)).body;
      expect(none).toMatchObject({ total: 1, groups: [{ site: 'site-a', resource: '', error: 'Resource: required' }] });
      expect((await get('/reports/amie/failures?site=site-a&resource=cluster-b').expect(200)).body.total).toBe(1);
      expect(await get('/reports/amie/failures?site=nowhere').expect(200).then((r) => r.body)).toEqual({ groups: [], total: 0 });
      await t.runtime.dataSource.query(`UPDATE amie_usage_failed_record SET state = 'cleared', cleared_at = now() WHERE site = 'site-b'`);
      expect((await get('/reports/amie/failures').expect(200)).body.total).toBe(4);
    });

    it('answers 400 naming the field: repeated filters, over-long values, unknown parameters', async () => {
      expect((await get('/reports/amie/failures?site=a&site=b').expect(400)).body).toEqual({ error: 'site: must be a string', fields: { site: 'must be a string' } });
      expect((await get(`/reports/amie/failures?site=${'x'.repeat(101)}`).expect(400)).body.error).toBe('site: must be at most 100 characters');
      expect((await get('/reports/amie/failures?resource=a&resource=b').expect(400)).body.error).toBe('resource: must be a string');
      expect((await get('/reports/amie/failures?project_id=p1').expect(400)).body).toEqual({ error: 'project_id: not a known parameter', fields: { project_id: 'not a known parameter' } });
    });
  });

  describe('roles (reports.md §9.2: admin, reader, service)', () => {
    it.each(['/reports/ops/freshness', '/reports/ops/queues', '/reports/amie/failures'])('%s: 401 without or with an unknown token, 403 for a user, 200 for admin, reader, service', async (url) => {
      expect((await t.http.get(url).expect(401)).body).toEqual({ error: expect.any(String) });
      await t.http.get(url).set('X-Auth-Token', 'not-a-token').expect(401);
      const user = await t.token('user', { projectIds: ['p1'] });
      expect((await get(url, user).expect(403)).body).toEqual({ error: expect.any(String) });
      for (const token of [ADMIN_TOKEN, reader, await t.token('service')]) await get(url, token).expect(200);
      // HEAD is answered for every GET (spec README).
      await t.http.head(url).set('X-Auth-Token', reader).expect(200);
    });
  });
});
