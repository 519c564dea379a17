import { adjustment, compute, createSite, iso, SiteCredentials, startUsageApp, storage, waitLoaded } from '../support/amie';
import { ReportClockService } from '../../src/reports/clock/report-clock.service';
import { UsageLoaderService } from '../../src/usage/usage-loader.service';
import { LoadedBatch } from '../../src/usage/usage-record.repository';
import { MetricCounts } from '../../src/reports/ops/metric-counts.service';
import { parsePrometheusText, valueOf } from '../support/prometheus-text';
import { ADMIN_TOKEN, APP_START_TIMEOUT_MS, startTestApp, TestApp } from '../support/test-app';

/**
 * The late-data horizon and backfill windows (reports.md §5.4, §13 item 14),
 * with LATE_HORIZON_DAYS=400 in Europe/Berlin: Almanach writes beyond the
 * horizon are a 400 naming the first refused local day, AMIE records become
 * failed records with the fixed error of their type while the rest of their
 * message loads, and both are accepted inside an active backfill window.
 */
const DAY = 86_400_000;
const ZONE = 'Europe/Berlin';
const daysAgo = (n: number, extraMs = 0) => iso(Date.now() - n * DAY + extraMs);
/** The local date of an instant in the accounting zone, YYYY-MM-DD. */
const localDay = (instant: string) => new Intl.DateTimeFormat('en-CA', { timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(instant));
const refusal = (instant: string) => ({ error: `Change reaches ${localDay(instant)}, beyond the late-data horizon of 400 days` });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('late-data horizon (LATE_HORIZON_DAYS=400)', () => {
  let t: TestApp;
  let site: SiteCredentials;

  beforeAll(async () => {
    t = await startUsageApp({ LATE_HORIZON_DAYS: '400', REPORT_TIME_ZONE: ZONE });
  }, APP_START_TIMEOUT_MS);
  afterAll(async () => {
    await t?.close();
  });
  beforeEach(async () => {
    await t.reset();
    site = await createSite(t, 'site-h');
  });

  const admin = (method: 'get' | 'post' | 'put' | 'delete', url: string) => t.http[method](url).set('X-Auth-Token', ADMIN_TOKEN);
  const write = (method: 'post' | 'put' | 'delete', url: string, body: Record<string, unknown>) => admin(method, url).set('Content-Type', 'application/json').send(body);
  const createInstance = (id: string, createdAt: string) =>
    write('post', '/v1/project/p1/instance', { id, created_at: createdAt, name: `name-${id}`, flavor: 'm1.small', os_distro: 'ubuntu', os_version: '22.04', os_type: 'linux' });
  const createVolume = (id: string, start: string) => write('post', '/v1/project/p1/volume', { volume_id: id, start, volume_type: 'ssd', size: 10, volume_name: `vol-${id}`, attached_to: [] });
  const versions = async (id: string) => (await admin('get', `/v1/entity/${id}`).expect(200)).body as Record<string, unknown>[];
  // Dirty marks: keys, and the range rows of changes spanning more than 31 days.
  const dirtyKeys = async () =>
    Number((await t.runtime.dataSource.query(`SELECT (SELECT count(*)::int FROM report_dirty_key) + (SELECT count(*)::int FROM report_dirty_range) AS n`))[0].n);

  /** Opens a backfill window over the local days [startDay, endDay) that expires `expiresInMs` from now. */
  async function openBackfill(startDay: string, endDay: string, expiresInMs = 3_600_000) {
    const res = await write('post', '/admin/reports/backfills', { start: startDay, end: endDay, reason: 'history import', expires_at: iso(Date.now() + expiresInMs) });
    expect(res.status).toBe(201);
    return res.body as { id: string; expires_at: string; active: boolean };
  }

  /** Waits until a window opened with a short expiry is no longer active. */
  async function waitExpired(id: string) {
    for (let i = 0; i < 100; i++) {
      const res = await admin('get', '/admin/reports/backfills').expect(200);
      if (res.body.backfills.find((b: { id: string; active: boolean }) => b.id === id)?.active === false) return;
      await sleep(100);
    }
    throw new Error(`backfill ${id} still active`);
  }

  /** A window over the local days from 420 to 380 days ago. */
  const oldWindow = (expiresInMs?: number) => openBackfill(localDay(daysAgo(420)), localDay(daysAgo(380)), expiresInMs);

  it('the clock holds LATE_HORIZON_DAYS as this start recorded it', async () => {
    expect(await t.runtime.dataSource.query(`SELECT late_horizon_days AS n, time_zone AS tz FROM report_clock`)).toEqual([{ n: 400, tz: ZONE }]);
  });

  describe('Almanach', () => {
    it('a delete dated 401 days ago is 400 naming the first refused local day; nothing is written', async () => {
      const bf = await oldWindow(2000);
      await createInstance('i1', daysAgo(410)).expect(201);
      await waitExpired(bf.id);
      const date = daysAgo(401);
      const res = await write('delete', '/v1/instance/i1', { date }).expect(400);
      expect(res.body).toEqual(refusal(date));
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      const [only] = await versions('i1');
      expect(only.end).toBeNull();
    });

    it('a create dated beyond the horizon is refused; one inside it is accepted', async () => {
      const created = daysAgo(401);
      expect((await createInstance('i1', created).expect(400)).body).toEqual(refusal(created));
      await admin('get', '/v1/entity/i1').expect(404);
      await createInstance('i2', daysAgo(399)).expect(201);
      expect(await dirtyKeys()).toBeGreaterThan(0);
    });

    it('names the earliest refused day of the write, in the accounting zone', async () => {
      // 23:30 UTC is already the next day in Berlin.
      const late = new Date(Date.now() - 500 * DAY);
      late.setUTCHours(23, 30, 0, 0);
      const res = await createInstance('i1', late.toISOString()).expect(400);
      expect(res.body.error).toBe(`Change reaches ${localDay(late.toISOString())}, beyond the late-data horizon of 400 days`);
      expect(localDay(late.toISOString())).not.toBe(late.toISOString().slice(0, 10));
    });

    it('both writes are accepted inside an active backfill window; an expired window no longer admits', async () => {
      const bf = await oldWindow(2500);
      await createInstance('i1', daysAgo(410)).expect(201);
      await write('delete', '/v1/instance/i1', { date: daysAgo(401) }).expect(202);
      await createInstance('i2', daysAgo(405)).expect(201);
      await waitExpired(bf.id);
      const date = daysAgo(402);
      expect((await write('delete', '/v1/instance/i2', { date }).expect(400)).body).toEqual(refusal(date));
      expect((await createInstance('i3', daysAgo(405)).expect(400)).body).toEqual(refusal(daysAgo(405)));
    });

    it('a window admits only its own days: a write reaching a day before it is refused with that day', async () => {
      await openBackfill(localDay(daysAgo(405)), localDay(daysAgo(395)));
      await createInstance('i1', daysAgo(404)).expect(201);
      const created = daysAgo(410);
      expect((await createInstance('i2', created).expect(400)).body).toEqual(refusal(created));
    });

    it('a version split (attach, rebuild) dated beyond the horizon is refused, though it changes no total', async () => {
      await write('post', '/v1/volume_type', { type_id: 'ssd', type_name: 'ssd' }).expect(201);
      const bf = await oldWindow(2500);
      await createVolume('v1', daysAgo(410)).expect(201);
      await createInstance('i1', daysAgo(410)).expect(201);
      await waitExpired(bf.id);
      const attach = daysAgo(405);
      expect((await write('put', '/v1/volume/v1/attach', { date: attach, attachments: ['i1'] }).expect(400)).body).toEqual(refusal(attach));
      const rebuild = daysAgo(404);
      expect((await write('put', '/v1/instance/i1/rebuild', { rebuild_date: rebuild, distro: 'debian', version: '12', os_type: 'linux' }).expect(400)).body).toEqual(refusal(rebuild));
      expect(await versions('v1')).toHaveLength(1);
      expect(await versions('i1')).toHaveLength(1);
      // Inside the horizon the same split is accepted.
      await write('put', '/v1/volume/v1/attach', { date: daysAgo(10), attachments: ['i1'] }).expect(200);
      expect(await versions('v1')).toHaveLength(2);
    });

    it('a write that marks no day (a rename, metadata) of a version older than the horizon is not refused', async () => {
      const bf = await oldWindow(2000);
      await createInstance('i1', daysAgo(410)).expect(201);
      await waitExpired(bf.id);
      await t.runtime.dataSource.query(`DELETE FROM report_dirty_key`);
      await t.runtime.dataSource.query(`DELETE FROM report_dirty_range`);
      const res = await write('put', '/v1/entity/instance/i1', { name: 'renamed', metadata: { team: 'a' } }).expect(200);
      expect(res.body.name).toBe('renamed');
      expect(await dirtyKeys()).toBe(0);
      // Moving the same version's start does change usage: the days between the two starts, the earliest named.
      const created = (await versions('i1'))[0].start as string;
      const moved = await write('put', '/v1/entity/instance/i1', { start_date: daysAgo(408) }).expect(400);
      expect(moved.body).toEqual({ error: `Change reaches ${localDay(new Date(created.replace(' ', 'T')).toISOString())}, beyond the late-data horizon of 400 days` });
      expect((await versions('i1'))[0]).toMatchObject({ start: created, name: 'renamed' });
    });
  });

  describe('AMIE', () => {
    const send = (type: string, records: Record<string, unknown>[]) => t.http.post('/amie/usage').set(site.headers).send({ UsageType: type, Records: records }).expect(200);
    const status = async () => (await t.http.get('/amie/usage/status').set(site.headers).expect(200)).body as Record<string, unknown>[];
    const failed = async () =>
      (await t.http.get('/amie/usage/failed').set(site.headers).expect(200)).body.ValidationFailedRecords as { Error: string; UsageType: string; LocalRecordID: string }[];
    const old = (n: number) => ({ SubmitTime: daysAgo(n, -3_600_000), StartTime: daysAgo(n, -1_800_000), EndTime: daysAgo(n) });
    const charges = async () =>
      (await t.runtime.dataSource.query(`SELECT local_record_id AS id, charge::text AS charge FROM amie_usage_record ORDER BY 1`)) as { id: string; charge: string }[];

    it('a compute record attributed 401 days ago fails with EndTime: older than the late-data horizon; the rest of its message loads', async () => {
      const loads: LoadedBatch[] = [];
      t.app.get(UsageLoaderService).onLoaded((batch) => loads.push(batch));
      const res = await send('Compute', [compute(1, old(401)), compute(2), compute(3, old(399))]);
      expect(res.body.QueuedRecordCount).toBe(3);
      await waitLoaded(t);
      // What the load tells its listeners (the ingest counters): the refused record is neither loaded nor superseded.
      expect(loads).toEqual([{ site: site.name, loaded: 2, superseded: 0, refused: 1 }]);
      expect(await charges()).toEqual([
        { id: 'job-2', charge: '10.5' },
        { id: 'job-3', charge: '10.5' },
      ]);
      const [entry] = await status();
      expect(entry).toMatchObject({ Resource: 'cluster-a', LoadedRecordCount: 2, FailedJobCount: 1, PendingRecordCount: 0 });
      expect(entry.Errors).toEqual([expect.objectContaining({ Error: 'EndTime: older than the late-data horizon', UsageType: 'Compute', RecordCount: 1 })]);
      expect(await failed()).toEqual([expect.objectContaining({ Error: 'EndTime: older than the late-data horizon', UsageType: 'Compute', LocalRecordID: 'job-1' })]);
    });

    it('storage and adjustment records fail with CollectionTime: … and StartTime: …', async () => {
      await send('Storage', [storage(1, { CollectionTime: daysAgo(401) }), storage(2)]);
      await send('Adjustment', [adjustment(1, { StartTime: daysAgo(401) }), adjustment(2)]);
      await waitLoaded(t);
      expect((await charges()).map((r) => r.id)).toEqual(['adj-2', 'stor-2']);
      // The two batches may load in either order (a worker takes several jobs at once): compared as a set.
      expect((await failed()).map((f) => [f.UsageType, f.LocalRecordID, f.Error]).sort()).toEqual([
        ['Adjustment', 'adj-1', 'StartTime: older than the late-data horizon'],
        ['Storage', 'stor-1', 'CollectionTime: older than the late-data horizon'],
      ]);
    });

    it('failures of several records group under one error in status', async () => {
      await send('Compute', [compute(1, old(401)), compute(2, old(500)), compute(3, old(800))]);
      await waitLoaded(t);
      const [entry] = await status();
      expect(entry).toMatchObject({ LoadedRecordCount: 0, FailedJobCount: 3 });
      expect(entry.Errors).toEqual([expect.objectContaining({ Error: 'EndTime: older than the late-data horizon', UsageType: 'Compute', RecordCount: 3 })]);
    });

    it('a resubmission moving a loaded record beyond the horizon fails, and the loaded version stays loaded', async () => {
      await send('Compute', [compute(1)]);
      await waitLoaded(t);
      await send('Compute', [compute(1, { ...old(401), Charge: '99' })]);
      await waitLoaded(t);
      expect(await charges()).toEqual([{ id: 'job-1', charge: '10.5' }]);
      expect(await failed()).toEqual([expect.objectContaining({ Error: 'EndTime: older than the late-data horizon', LocalRecordID: 'job-1' })]);
    });

    it('a resubmission replacing a version attributed beyond the horizon fails too, and a later good one clears nothing it should not', async () => {
      const bf = await oldWindow(2000);
      await send('Compute', [compute(1, old(401))]);
      await waitLoaded(t);
      expect(await charges()).toEqual([{ id: 'job-1', charge: '10.5' }]);
      await waitExpired(bf.id);
      await send('Compute', [compute(1, { Charge: '7' }), compute(2)]);
      await waitLoaded(t);
      expect(await charges()).toEqual([
        { id: 'job-1', charge: '10.5' },
        { id: 'job-2', charge: '10.5' },
      ]);
      expect(await failed()).toEqual([expect.objectContaining({ Error: 'EndTime: older than the late-data horizon', LocalRecordID: 'job-1' })]);
    });

    it('a record beyond the horizon loads inside an active backfill window (and its refused earlier version is cleared)', async () => {
      await send('Compute', [compute(1, old(401))]);
      await waitLoaded(t);
      expect(await failed()).toHaveLength(1);
      await oldWindow();
      await send('Compute', [compute(1, old(401)), compute(2, old(402))]);
      await waitLoaded(t);
      expect((await charges()).map((r) => r.id)).toEqual(['job-1', 'job-2']);
      expect(await failed()).toEqual([]);
      const [entry] = await status();
      expect(entry).toMatchObject({ LoadedRecordCount: 2, FailedJobCount: 0, Errors: [] });
    });
  });

  it('ledger_ingest_total counts the refusals with outcome refused_horizon, per source (reports.md §9.1)', async () => {
    const refusals = async () => {
      await t.app.get(MetricCounts).flush();
      const res = await t.http.get('/metrics').expect(200);
      const families = parsePrometheusText(res.text);
      return {
        almanach: valueOf(families, 'ledger_ingest_total', { source: 'almanach', site: 'cloud', outcome: 'refused_horizon' }) ?? 0,
        amie: valueOf(families, 'ledger_ingest_total', { source: 'amie', site: site.name, outcome: 'refused_horizon' }) ?? 0,
      };
    };
    const before = await refusals();
    await createInstance('i-metric', daysAgo(401)).expect(400);
    await createInstance('i-metric-ok', daysAgo(10)).expect(201);
    const old = { SubmitTime: daysAgo(401, -3_600_000), StartTime: daysAgo(401, -1_800_000), EndTime: daysAgo(401) };
    await t.http.post('/amie/usage').set(site.headers).send({ UsageType: 'Compute', Records: [compute(1, old), compute(2, old), compute(3)] }).expect(200);
    await waitLoaded(t);
    const after = await refusals();
    expect({ almanach: after.almanach - before.almanach, amie: after.amie - before.amie }).toEqual({ almanach: 1, amie: 2 });
  });

  describe('POST /admin/reports/backfills and GET /admin/reports/backfills', () => {
    const post = (body: unknown, token = ADMIN_TOKEN) => t.http.post('/admin/reports/backfills').set('X-Auth-Token', token).set('Content-Type', 'application/json').send(body as object);
    const valid = () => ({ start: '2024-01-01', end: '2024-02-01', reason: 'import of 2024', expires_at: iso(Date.now() + 2 * DAY) });

    it('201 with the window as local days of the accounting zone; GET lists it', async () => {
      const body = valid();
      const res = await post(body).expect(201);
      expect(res.body).toEqual({
        id: expect.stringMatching(/^bf_[0-9A-Z]{26}$/),
        start: '2023-12-31T23:00:00.000Z',
        end: '2024-01-31T23:00:00.000Z',
        reason: 'import of 2024',
        expires_at: body.expires_at,
        created_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
        created_by: 'admin',
        active: true,
      });
      expect(Math.abs(Date.parse(res.body.created_at) - Date.now())).toBeLessThan(60_000);
      const list = await admin('get', '/admin/reports/backfills').expect(200);
      expect(list.body).toEqual({ backfills: [res.body] });
      const [row] = await t.runtime.dataSource.query(`SELECT start_day::text AS s, end_day::text AS e FROM report_backfill`);
      expect(row).toEqual({ s: '2024-01-01', e: '2024-02-01' });
    });

    it('accepts instants at the start of a local day (with an offset), and its created_by is the token name', async () => {
      const token = await t.token('admin', { name: 'ops' });
      const res = await post({ ...valid(), start: '2024-03-31T00:00:00+01:00', end: '2024-04-01T22:00:00Z' }, token).expect(201);
      // 2024-03-31 starts in winter time (+01:00) and lasts 23 hours; 2024-04-02 starts in summer time (+02:00).
      expect(res.body).toMatchObject({ start: '2024-03-30T23:00:00.000Z', end: '2024-04-01T22:00:00.000Z', created_by: 'ops' });
    });

    it('lists active windows first, then newest first', async () => {
      const a = (await post({ ...valid(), reason: 'a', expires_at: iso(Date.now() + 1500) }).expect(201)).body;
      await sleep(20);
      const b = (await post({ ...valid(), reason: 'b' }).expect(201)).body;
      await sleep(20);
      const c = (await post({ ...valid(), reason: 'c' }).expect(201)).body;
      await waitExpired(a.id);
      const list = await admin('get', '/admin/reports/backfills').expect(200);
      expect(list.body.backfills.map((x: { reason: string; active: boolean }) => [x.reason, x.active])).toEqual([
        ['c', true],
        ['b', true],
        ['a', false],
      ]);
      expect(list.body.backfills.map((x: { id: string }) => x.id)).toEqual([c.id, b.id, a.id]);
    });

    it('400 names every field at fault, the first in the order start, end, reason, expires_at', async () => {
      let res = await post({}).expect(400);
      expect(res.body).toEqual({ error: 'start: required', fields: { start: 'required', end: 'required', reason: 'required', expires_at: 'required' } });
      res = await post({ ...valid(), start: '2024-01-01T00:00:00', end: 5, reason: '' }).expect(400);
      expect(res.body).toEqual({
        error: 'start: needs Z or an offset',
        fields: { start: 'needs Z or an offset', end: 'must be a string', reason: 'must be a string of 1 to 1000 characters' },
      });
      res = await post({ ...valid(), start: 'yesterday', expires_at: '2026-12-01T00:00' }).expect(400);
      expect(res.body.fields).toEqual({ start: 'must be YYYY-MM-DD or a date-time with Z or an offset', expires_at: 'needs Z or an offset' });
      res = await post({ ...valid(), reason: 'x'.repeat(1001) }).expect(400);
      expect(res.body).toEqual({ error: 'reason: must be a string of 1 to 1000 characters', fields: { reason: 'must be a string of 1 to 1000 characters' } });
      res = await post({ ...valid(), project: 'p1' }).expect(400);
      expect(res.body).toEqual({ error: 'project: not a known field', fields: { project: 'not a known field' } });
    });

    it('400 for a window not on local day boundaries, an end not after its start, an impossible date', async () => {
      let res = await post({ ...valid(), start: '2024-01-01T00:00:00Z', end: '2024-01-15T12:00:00+01:00' }).expect(400);
      expect(res.body).toEqual({
        error: `start: must be the start of a day in ${ZONE}`,
        fields: { start: `must be the start of a day in ${ZONE}`, end: `must be the start of a day in ${ZONE}` },
      });
      res = await post({ ...valid(), start: '2024-02-01', end: '2024-02-01' }).expect(400);
      expect(res.body).toEqual({ error: 'end: must be later than start', fields: { end: 'must be later than start' } });
      res = await post({ ...valid(), start: '2024-03-01', end: '2024-02-01' }).expect(400);
      expect(res.body.error).toBe('end: must be later than start');
      res = await post({ ...valid(), start: '2024-13-01', end: '2024-02-30' }).expect(400);
      expect(res.body).toEqual({ error: 'start: not a valid date or instant', fields: { start: 'not a valid date or instant', end: 'not a valid date or instant' } });
      expect(await t.runtime.dataSource.query(`SELECT id FROM report_backfill`)).toEqual([]);
    });

    it('400 for an expires_at not later than now or more than 7 days ahead', async () => {
      let res = await post({ ...valid(), expires_at: iso(Date.now() - 1000) }).expect(400);
      expect(res.body).toEqual({ error: 'expires_at: must be later than now', fields: { expires_at: 'must be later than now' } });
      res = await post({ ...valid(), expires_at: iso(Date.now() + 7 * DAY + 60_000) }).expect(400);
      expect(res.body).toEqual({ error: 'expires_at: must be at most 7 days ahead', fields: { expires_at: 'must be at most 7 days ahead' } });
      await post({ ...valid(), expires_at: iso(Date.now() + 7 * DAY - 60_000) }).expect(201);
    });

    it('401 without a known token, 403 for every role but admin (both routes)', async () => {
      await t.http.post('/admin/reports/backfills').send(valid()).expect(401);
      await t.http.get('/admin/reports/backfills').expect(401);
      await t.http.get('/admin/reports/backfills').set('X-Auth-Token', 'not-a-token-0123456789').expect(401);
      for (const role of ['reader', 'service', 'user'] as const) {
        const token = await t.token(role, { name: `${role}-x`, projectIds: role === 'user' ? ['p1'] : undefined });
        const res = await post(valid(), token).expect(403);
        expect(res.body).toEqual({ error: expect.any(String) });
        await t.http.get('/admin/reports/backfills').set('X-Auth-Token', token).expect(403);
      }
      expect(await t.runtime.dataSource.query(`SELECT id FROM report_backfill`)).toEqual([]);
    });

    it('GET takes no query parameter; POST takes JSON only', async () => {
      const res = await admin('get', '/admin/reports/backfills?active=true').expect(400);
      expect(res.body).toEqual({ error: 'active: not a known parameter', fields: { active: 'not a known parameter' } });
      await t.http.post('/admin/reports/backfills').set('X-Auth-Token', ADMIN_TOKEN).set('Content-Type', 'text/plain').send('start=2024-01-01').expect(415);
    });

    it('Idempotency-Key: a repeat answers the first window again; another body under the key is 409', async () => {
      const body = valid();
      const first = await post(body).set('Idempotency-Key', 'bf-1').expect(201);
      const again = await post(body).set('Idempotency-Key', 'bf-1').expect(201);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.body).toEqual(first.body);
      await post({ ...body, reason: 'other' }).set('Idempotency-Key', 'bf-1').expect(409);
      expect(await t.runtime.dataSource.query(`SELECT id FROM report_backfill`)).toEqual([{ id: first.body.id }]);
    });
  });
});

describe('late-data horizon: configuration', () => {
  it('LATE_HORIZON_DAYS is recorded in the clock at each start, and 0 (the default) accepts every past day', async () => {
    const t = await startUsageApp({ REPORT_TIME_ZONE: 'UTC' });
    try {
      const recorded = async () => (await t.runtime.dataSource.query(`SELECT late_horizon_days AS n FROM report_clock`)) as { n: number }[];
      expect(await recorded()).toEqual([{ n: 0 }]);
      // A start finding a clock recorded with another value (an earlier process's) records its own.
      await t.runtime.dataSource.query(`UPDATE report_clock SET late_horizon_days = 7`);
      await t.app.get(ReportClockService).ensure();
      expect(await recorded()).toEqual([{ n: 0 }]);
      const send = (method: 'post' | 'delete', url: string, body: Record<string, unknown>) =>
        t.http[method](url).set('X-Auth-Token', ADMIN_TOKEN).set('Content-Type', 'application/json').send(body);
      await send('post', '/v1/project/p1/instance', { id: 'i1', created_at: '2016-01-01T00:00:00Z', name: 'n', flavor: 'm1.small', os_distro: 'u', os_version: '1', os_type: 'linux' }).expect(201);
      await send('delete', '/v1/instance/i1', { date: '2017-01-01T00:00:00Z' }).expect(202);
      const site = await createSite(t);
      await t.http
        .post('/amie/usage')
        .set(site.headers)
        .send({ UsageType: 'Compute', Records: [compute(1, { SubmitTime: '2016-01-01T00:00:00Z', StartTime: '2016-01-01T01:00:00Z', EndTime: '2016-01-01T02:00:00Z' })] })
        .expect(200);
      await waitLoaded(t);
      const [entry] = (await t.http.get('/amie/usage/status').set(site.headers).expect(200)).body;
      expect(entry).toMatchObject({ LoadedRecordCount: 1, FailedJobCount: 0 });
    } finally {
      await t.close();
    }
  }, APP_START_TIMEOUT_MS);

  it('a bad LATE_HORIZON_DAYS stops the start naming the variable', async () => {
    for (const value of ['-1', '1.5', 'forever']) {
      await expect(startTestApp({ LATE_HORIZON_DAYS: value })).rejects.toThrow('LATE_HORIZON_DAYS must be a whole number of days from 0 to 36500 (0: no horizon)');
    }
  });
});
