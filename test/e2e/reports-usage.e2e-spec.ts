import { ReportSiteDayChargeScale1763802000000 } from '../../migrations/1763802000000-ReportSiteDayChargeScale';
import { ReportLocalDayFold1763802010000 } from '../../migrations/1763802010000-ReportLocalDayFold';
import { JobQueueService } from '../../src/queue/job-queue.service';
import { createSite, SiteCredentials, waitLoaded } from '../support/amie';
import { almanach, drainRollups } from '../support/reports';
import { TestApp, useTestApp } from '../support/test-app';

type Row = Record<string, unknown>;

function reader(t: TestApp, token: string) {
  return (query: string) => t.http.get(`/reports/usage?${query}`).set('X-Auth-Token', token);
}

/** Every row of every page of a query, following next_cursor with `limit`. */
async function allPages(get: (q: string) => ReturnType<ReturnType<typeof reader>>, query: string, limit: number) {
  const rows: Row[] = [];
  const totals: unknown[] = [];
  let cursor: string | null = null;
  do {
    const res: { body: { rows: Row[]; totals: unknown; next_cursor: string | null } } = await get(`${query}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`).expect(200);
    rows.push(...res.body.rows);
    totals.push(res.body.totals);
    cursor = res.body.next_cursor;
  } while (cursor);
  return { rows, totals };
}

describe('GET /reports/usage in UTC (reports.md §3.1, §13)', () => {
  const t = useTestApp({ REPORT_TIME_ZONE: 'UTC' });
  let admin: string;
  let get: ReturnType<typeof reader>;
  beforeEach(async () => {
    admin = await t.token('reader', { name: 'billing' });
    get = reader(t, admin);
  });

  it('§13.1 exact time: a resize at half a second splits the month exactly, entity lines agree', async () => {
    const a = almanach(t, await t.token('service'));
    await a.createInstance('p1', 'i1', '2025-03-01T00:00:00Z', 'a');
    await a.resizeInstance('i1', '2025-03-10T12:00:00.500Z', 'b');
    await a.deleteInstance('i1', '2025-03-20T00:00:00Z');
    await drainRollups(t);
    const res = await get('period=2025-03').expect(200);
    expect(res.body).toMatchObject({
      window: { start: '2025-03-01T00:00:00.000Z', end: '2025-04-01T00:00:00.000Z', tz: 'UTC', period: '2025-03' },
      complete: true,
      pending_cells: 0,
      lag_seconds: 0,
      granularity: 'total',
      group_by: ['project_id', 'key', 'subkey'],
      currency: null,
      next_cursor: null,
    });
    expect(res.body.rows).toEqual([
      {
        period_start: '2025-03-01T00:00:00.000Z',
        period_end: '2025-04-01T00:00:00.000Z',
        period: '2025-03',
        line_type: 'usage',
        applies_to_period: null,
        project_id: 'p1',
        site: null,
        source: 'instance',
        meter: 'instance.time',
        key: 'a',
        subkey: '',
        unit: 's',
        quantity: '820800.500000',
        quantity_hours: '228.000139',
        unsized: true,
        unit_price: null,
        price_unit: null,
        cost: null,
        priced: null,
      },
      expect.objectContaining({ key: 'b', quantity: '820799.500000', quantity_hours: '227.999861' }),
    ]);
    expect(res.body.totals).toEqual({
      by_meter: [{ meter: 'instance.time', unit: 's', quantity: '1641600.000000', quantity_hours: '456.000000' }],
      cost: null,
      cost_complete: null,
    });
    expect(res.body.warnings.map((w: Row) => [w.code, w.key])).toEqual([
      ['unsized', 'a'],
      ['unsized', 'b'],
    ]);
    // An unaligned window: raw fragments at both cut ends plus day cells between.
    const cut = await get('start=2025-03-10T12:00:00.250Z&end=2025-03-10T12:00:01Z&group_by=key').expect(200);
    expect(cut.body.rows.map((r: Row) => [r.key, r.quantity, r.period])).toEqual([
      ['a', '0.250000', null],
      ['b', '0.500000', null],
    ]);
    const wide = await get('start=2025-03-05T06:00:00Z&end=2025-03-15T18:00:00Z&group_by=key').expect(200);
    expect(wide.body.rows.map((r: Row) => [r.key, r.quantity])).toEqual([
      ['a', '453600.500000'],
      ['b', '453599.500000'],
    ]);
  });

  it('§13.3 derived meters: vCPU, RAM and disk from the catalogue; aliases report under the name; unsized flavors flagged', async () => {
    await t.runtime.dataSource.query(`INSERT INTO report_flavor (name, vcpus, ram_mb, disk_gb, updated_by) VALUES ('m1.large', 4, 8192, 80, 'test')`);
    await t.runtime.dataSource.query(`INSERT INTO report_flavor_alias (alias, flavor_name) VALUES ('f-large-id', 'm1.large')`);
    const a = almanach(t, await t.token('service'));
    await a.createInstance('p1', 'i1', '2025-05-01T00:00:00Z', 'm1.large');
    await a.deleteInstance('i1', '2025-05-02T00:00:00Z');
    await a.createInstance('p1', 'i2', '2025-05-01T00:00:00Z', 'f-large-id');
    await a.deleteInstance('i2', '2025-05-01T12:00:00Z');
    await a.createInstance('p1', 'i3', '2025-05-01T00:00:00Z', 'mystery');
    await a.deleteInstance('i3', '2025-05-01T01:00:00Z');
    await drainRollups(t);
    const res = await get('period=2025-05&group_by=flavor').expect(200);
    const byMeter = (meter: string) => res.body.rows.filter((r: Row) => r.meter === meter).map((r: Row) => [r.key, r.quantity, r.unsized]);
    expect(byMeter('instance.time')).toEqual([
      ['m1.large', '129600.000000', false],
      ['mystery', '3600.000000', true],
    ]);
    expect(byMeter('instance.vcpu')).toEqual([['m1.large', '518400.000000', false]]);
    expect(byMeter('instance.ram')).toEqual([['m1.large', String(129600 * 8192) + '.000000', false]]);
    expect(byMeter('instance.disk')).toEqual([['m1.large', String(129600 * 80) + '.000000', false]]);
    expect(res.body.warnings).toEqual([{ code: 'unsized', meter: 'instance.time', key: 'mystery', message: expect.stringContaining('mystery') }]);
    const onlyVcpu = await get('period=2025-05&meter=instance.vcpu&flavor=m1.large&group_by=').expect(200);
    expect(onlyVcpu.body.rows.map((r: Row) => [r.meter, r.key, r.quantity])).toEqual([['instance.vcpu', null, '518400.000000']]);
  });

  it('§13.4 volumes: GB·s by volume type through a resize', async () => {
    const a = almanach(t, await t.token('service'));
    await t.http.post('/v1/volume_type').set('X-Auth-Token', await t.token('service', { name: 'svc2' })).send({ type_id: 'ssd', type_name: 'ssd' });
    await a.createVolume('p1', 'v1', '2025-06-01T00:00:00Z', 100, 'ssd');
    await a.resizeVolume('v1', '2025-06-11T00:00:00Z', 200);
    await a.deleteVolume('v1', '2025-06-16T00:00:00Z');
    await drainRollups(t);
    const res = await get('period=2025-06&source=volume&group_by=volume_type').expect(200);
    expect(res.body.rows.map((r: Row) => [r.meter, r.key, r.unit, r.quantity])).toEqual([['volume.size', 'ssd', 'GB·s', '172800000.000000']]);
  });

  it('§13.15 freshness: a write is pending (complete false) until the worker drains it, then visible', async () => {
    const a = almanach(t, await t.token('service'));
    await a.createInstance('p9', 'i9', '2025-07-01T00:00:00Z', 'a');
    await a.deleteInstance('i9', '2025-07-01T02:00:00Z');
    const before = await get('period=2025-07').expect(200);
    expect(before.body.complete).toBe(false);
    expect(before.body.pending_cells).toBeGreaterThan(0);
    expect(before.body.rows).toEqual([]);
    await drainRollups(t);
    const after = await get('period=2025-07').expect(200);
    expect(after.body).toMatchObject({ complete: true, pending_cells: 0, lag_seconds: 0 });
    expect(after.body.rows.map((r: Row) => r.quantity)).toEqual(['7200.000000']);
  });

  it('measures today from the today cell up to as_of, and an open instance keeps growing', async () => {
    const a = almanach(t, await t.token('service'));
    const todayStart = new Date(new Date().toISOString().slice(0, 10) + 'T00:00:00Z');
    const created = new Date(Math.min(Date.now() - 60_000, Math.max(todayStart.getTime(), Date.now() - 3_600_000)));
    await a.createInstance('p1', 'live', created.toISOString(), 'a');
    await drainRollups(t);
    const cells = await t.runtime.dataSource.query(`SELECT open_weight::text AS w FROM report_usage_today_cell WHERE project_id = 'p1'`);
    expect(cells).toEqual([{ w: '1' }]);
    const res = await get(`start=${todayStart.toISOString()}&end=${new Date(todayStart.getTime() + 86_400_000).toISOString()}`).expect(200);
    const asOf = new Date(res.body.as_of).getTime();
    const quantity = Number(res.body.rows[0].quantity);
    // The exact figure is as_of − created; as_of is shown to the millisecond.
    expect(Math.abs(quantity - (asOf - created.getTime()) / 1000)).toBeLessThan(0.002);
    expect(res.body.complete).toBe(true);
  });

  it('§13.7 paging: limit=1 pages are exactly one unpaged call, totals identical on every page', async () => {
    const a = almanach(t, await t.token('service'));
    for (const [p, i, f] of [
      ['p1', 'i1', 'a'],
      ['p1', 'i2', 'b'],
      ['p2', 'i3', 'a'],
      ['p3', 'i4', 'c'],
    ]) {
      await a.createInstance(p, i, '2025-08-03T10:00:00Z', f);
      await a.deleteInstance(i, '2025-08-05T10:00:00Z');
    }
    await drainRollups(t);
    for (const query of ['period=2025-08', 'period=2025-08&granularity=day&group_by=project_id', 'period=2025-08&group_by=site,key']) {
      const whole = await get(query).expect(200);
      const paged = await allPages(get, query, 1);
      expect(paged.rows).toEqual(whole.body.rows);
      expect(paged.rows.length).toBeGreaterThan(1);
      for (const totals of paged.totals) expect(totals).toEqual(whole.body.totals);
    }
    const first = await get('period=2025-08&limit=1').expect(200);
    const reused = await get(`period=2025-07&limit=1&cursor=${encodeURIComponent(first.body.next_cursor)}`).expect(400);
    expect(reused.body).toEqual({ error: 'cursor: belongs to a query with other parameters', fields: { cursor: 'belongs to a query with other parameters' } });
    await get('period=2025-08&cursor=bm9wZQ').expect(400);
  });

  it('§13.6 scoping: a user sees its projects only, a foreign project is 403, totals equal the reader’s', async () => {
    const a = almanach(t, await t.token('service'));
    await a.createInstance('p1', 'i1', '2025-09-01T00:00:00Z', 'a');
    await a.deleteInstance('i1', '2025-09-02T00:00:00Z');
    await a.createInstance('p2', 'i2', '2025-09-01T00:00:00Z', 'a');
    await a.deleteInstance('i2', '2025-09-03T00:00:00Z');
    await drainRollups(t);
    const user = reader(t, await t.token('user', { projectIds: ['p1'] }));
    const own = await user('period=2025-09').expect(200);
    expect(own.body.rows.map((r: Row) => r.project_id)).toEqual(['p1']);
    const denied = await user('period=2025-09&project_id=p2').expect(403);
    expect(denied.body).toEqual({ error: expect.any(String) });
    await user('period=2025-09&project_id=p1,p2').expect(403);
    const bySite = await user('period=2025-09&group_by=site').expect(200);
    const readerFiltered = await get('period=2025-09&group_by=site&project_id=p1').expect(200);
    expect(bySite.body.totals).toEqual(readerFiltered.body.totals);
    expect(bySite.body.rows).toEqual(readerFiltered.body.rows);
    const fleet = await get('period=2025-09&group_by=site').expect(200);
    expect(fleet.body.totals.by_meter[0].quantity).toBe('259200.000000');
    const none = reader(t, await t.token('user', { name: 'nobody', projectIds: [] }));
    expect((await none('period=2025-09').expect(200)).body.rows).toEqual([]);
  });

  it('answers 400 naming the field for every bad parameter, 401 without a token', async () => {
    const cases: [string, string][] = [
      ['period=2025-03&grop_by=key', 'grop_by: not a known parameter'],
      ['start=2025-03-01T00:00:00&end=2025-04-01', 'start: needs Z or an offset'],
      ['period=2025-13', 'period: not a valid month'],
      ['period=2025-03&start=2025-03-01', 'period: give either period or start and end, not both'],
      ['end=2025-03-01', 'start: required (or give period)'],
      ['start=2025-03-02&end=2025-03-01', 'end: must be later than start'],
      ['period=2025-03&tz=Mars/Olympus', 'tz: not a time zone PostgreSQL knows'],
      ['period=2025-03&limit=10001', 'limit: must be a whole number between 1 and 10000'],
      ['period=2025-03&limit=0', 'limit: must be a whole number between 1 and 10000'],
      ['period=2025-03&granularity=week', 'granularity: must be total, day or month'],
      ['period=2025-03&group_by=flavor,resource', 'group_by: resource and flavor both name key'],
      ['period=2025-03&group_by=key,key', 'group_by: key is named twice'],
      ['period=2025-03&meter=instance.gpu', expect.stringMatching(/^meter: values must be among/) as unknown as string],
      ['period=2025-03&currency=EUR', 'currency: no price list for EUR'],
      ['period=2025-03&currency=euro', 'currency: must be a three-letter ISO 4217 code or SU'],
      ['period=2025-03&view=live&lines=all', 'view: live answers usage lines only'],
    ];
    for (const [query, error] of cases) {
      const res = await get(query);
      expect({ query, status: res.status, error: res.body.error }).toEqual({ query, status: 400, error });
      expect(res.body.fields).toEqual(expect.any(Object));
    }
    const res = await t.http.get('/reports/usage?period=2025-03').expect(401);
    expect(res.body).toEqual({ error: expect.any(String) });
  });
});

describe('GET /reports/usage across DST (reports.md §1.5, §13.2)', () => {
  const t = useTestApp({ REPORT_TIME_ZONE: 'Europe/Berlin' });

  it('counts 743 h in March, 745 h in October, 23 h on 2025-03-30, 31 day rows; Santiago’s skipped midnight, Havana’s doubled one, Casey’s three-hour fall-back', async () => {
    const a = almanach(t, await t.token('service'));
    await a.createInstance('p1', 'i1', '2024-12-31T23:00:00Z', 'a');
    await drainRollups(t);
    const get = reader(t, await t.token('reader'));
    const hours = async (query: string) => (await get(query).expect(200)).body.rows.map((r: Row) => r.quantity_hours);
    expect(await hours('period=2025-03')).toEqual(['743.000000']);
    expect(await hours('period=2025-10')).toEqual(['745.000000']);
    expect(await hours('period=2025-03-30')).toEqual(['23.000000']);
    expect(await hours('period=2025-10-26')).toEqual(['25.000000']);
    const march = await get('period=2025-03&granularity=day').expect(200);
    expect(march.body.window).toEqual({ start: '2025-02-28T23:00:00.000Z', end: '2025-03-31T22:00:00.000Z', tz: 'Europe/Berlin', period: '2025-03' });
    expect(march.body.rows).toHaveLength(31);
    expect(march.body.rows[29]).toMatchObject({ period: '2025-03-30', period_start: '2025-03-29T23:00:00.000Z', period_end: '2025-03-30T22:00:00.000Z', quantity_hours: '23.000000' });
    const months = await get('period=2025&granularity=month').expect(200);
    expect(months.body.rows.map((r: Row) => [r.period, r.quantity_hours])).toEqual(
      [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31].map((days, i) => [`2025-${String(i + 1).padStart(2, '0')}`, `${days * 24 + (i === 2 ? -1 : i === 9 ? 1 : 0)}.000000`]),
    );
    const santiago = await get('period=2025-09-07&tz=America/Santiago').expect(200);
    expect(santiago.body.window).toMatchObject({ start: '2025-09-07T04:00:00.000Z', end: '2025-09-08T03:00:00.000Z' });
    expect(santiago.body.rows.map((r: Row) => r.quantity_hours)).toEqual(['23.000000']);
    const melbourne = await get('period=2025-04-06&tz=Australia/Melbourne').expect(200);
    expect(melbourne.body.rows.map((r: Row) => r.quantity_hours)).toEqual(['25.000000']);
    // Havana falls back from 01:00 to 00:00: its midnight happens twice and the day starts at the first (-04:00).
    const havana = await get('period=2024-11-03&tz=America/Havana').expect(200);
    expect(havana.body.window).toMatchObject({ start: '2024-11-03T04:00:00.000Z', end: '2024-11-04T05:00:00.000Z' });
    const havanaNov = await get('period=2024-11&tz=America/Havana&granularity=day').expect(200);
    expect(havanaNov.body.window).toMatchObject({ start: '2024-11-01T04:00:00.000Z', end: '2024-12-01T05:00:00.000Z' });
    // Casey fell back three hours, from 02:00 on 2010-03-05 to 23:00 the day before: the 5th began at its first midnight (+11).
    const casey = await get('period=2010-03-05&tz=Antarctica/Casey').expect(200);
    expect(casey.body.window).toMatchObject({ start: '2010-03-04T13:00:00.000Z', end: '2010-03-05T16:00:00.000Z' });
  });
});

describe('GET /reports/usage where a fall-back crosses midnight (reports.md §1.5)', () => {
  // St. John's fell back at 00:01 to 23:01 until 2011: on 2009-11-01 its day began at 02:30Z (00:00 NDT), and from
  // 02:31Z to 03:30Z the clock read 23:01-00:00 of October 31 again. Those instants are in November 1's day, though
  // their local date is the 31st: a span ending there, or an AMIE record attributed there, changes November 1's cell.
  const t = useTestApp({ REPORT_TIME_ZONE: 'America/St_Johns' });
  /** A compute job of one node started at 02:10Z on 2009-11-01, in St. John's repeated hour until `end`. */
  const postJob = (site: SiteCredentials, project: string, id: string, end: string, charge: string) =>
    t.http
      .post('/amie/usage/')
      .set(site.headers)
      .send({
        UsageType: 'Compute',
        Records: [
          { Username: 'jdoe', LocalProjectID: project, Resource: 'cluster-a', LocalRecordID: id, SubmitTime: '2009-11-01T02:00:00Z', StartTime: '2009-11-01T02:10:00Z', EndTime: end, Charge: charge, Attributes: { NodeCount: 1 } },
        ],
      })
      .expect(200);

  beforeAll(() => {
    t.app.get(JobQueueService).startWorker();
  });

  it('counts the repeated hour in the day it belongs to, for Almanach spans and AMIE records', async () => {
    const a = almanach(t, await t.token('service'));
    const site = await createSite(t, 'hpc');
    await a.createInstance('p-fold', 'i-fold', '2009-10-30T12:00:00Z', 'a');
    await a.deleteInstance('i-fold', '2009-11-01T03:00:00Z');
    await postJob(site, 'p-fold', 'job-fold', '2009-11-01T03:00:00Z', '5');
    await waitLoaded(t);
    await drainRollups(t);
    const get = reader(t, await t.token('reader'));
    const day = await get('period=2009-11-01&project_id=p-fold&group_by=').expect(200);
    expect(day.body.window).toMatchObject({ start: '2009-11-01T02:30:00.000Z', end: '2009-11-02T03:30:00.000Z' });
    expect(day.body.complete).toBe(true);
    expect(day.body.rows.map((r: Row) => [r.meter, r.quantity])).toEqual([
      ['amie.charge', '5'],
      ['amie.node_time', '3000.000000'],
      ['instance.time', '1800.000000'],
    ]);
    // By day: October 30 from 12:00Z to 02:30Z, the 31st whole (24 h), half an hour of November 1 (25 hours long: the repeated hour is its).
    const days = await get('start=2009-10-30&end=2009-11-03&project_id=p-fold&meter=instance.time&granularity=day&group_by=').expect(200);
    expect(days.body.rows.map((r: Row) => [r.period, r.quantity_hours])).toEqual([
      ['2009-10-30', '14.500000'],
      ['2009-10-31', '24.000000'],
      ['2009-11-01', '0.500000'],
    ]);
    // The window read from the raw history (not aligned to days) agrees.
    const raw = await get('start=2009-11-01T02:30:00Z&end=2009-11-01T03:30:01Z&project_id=p-fold&meter=instance.time&group_by=').expect(200);
    expect(raw.body.rows.map((r: Row) => r.quantity_hours)).toEqual(['0.500000']);
  });

  it('the migration marks the cells the old marks missed, and the drain mends them', async () => {
    const db = t.runtime.dataSource;
    const migration = new ReportLocalDayFold1763802010000();
    // The old function (the local date) marks October 31 only: November 1 keeps no charge and no instance time,
    // though its window holds the record and three quarters of an hour of the version (inserted as a row, as an
    // import would: through the API, the open version's marks reach today).
    await db.transaction(async (m) => migration.down(m.queryRunner!));
    const site = await createSite(t, 'hpc');
    await db.query(
      `INSERT INTO almanach_entity_version (entity_id, entity_type, project_id, start, "end", last_event, flavor)
       VALUES ('i-old', 'instance', 'p-old', '2009-10-31T12:00:00Z', '2009-11-01T03:15:00Z', '2009-11-01T03:15:00Z', 'a')`,
    );
    await postJob(site, 'p-old', 'job-old', '2009-11-01T03:15:00Z', '7');
    await waitLoaded(t);
    await drainRollups(t);
    const get = reader(t, await t.token('reader'));
    const nov1 = async () =>
      (await get('period=2009-11-01&project_id=p-old&meter=amie.charge&meter=instance.time&group_by=').expect(200)).body.rows.map((r: Row) => [r.meter, r.quantity]);
    expect(await nov1()).toEqual([]);
    await db.transaction(async (m) => migration.up(m.queryRunner!));
    const [{ keys }] = await db.query(`SELECT array_agg(project_id || ' ' || site || ' ' || day ORDER BY project_id, site, day) AS keys FROM report_dirty_key`);
    expect(keys).toEqual(['p-old cloud 2009-10-31', 'p-old cloud 2009-11-01', 'p-old hpc 2009-10-31', 'p-old hpc 2009-11-01']);
    await drainRollups(t);
    expect(await nov1()).toEqual([
      ['amie.charge', '7'],
      ['instance.time', '2700.000000'],
    ]);
    // October 31 was right all along (from 12:00Z to 02:30Z).
    expect((await get('period=2009-10-31&project_id=p-old&meter=instance.time&group_by=').expect(200)).body.rows.map((r: Row) => r.quantity_hours)).toEqual(['14.500000']);
  });
});

describe('GET /reports/usage of AMIE records (reports.md §2.2, §13.5)', () => {
  const t = useTestApp({ REPORT_TIME_ZONE: 'UTC' });
  let site: SiteCredentials;
  const post = (usageType: string, records: Row[]) => t.http.post('/amie/usage/').set(site.headers).send({ UsageType: usageType, Records: records }).expect(200);
  const record = (overrides: Row) => ({ Username: 'jdoe', LocalProjectID: 'TG-1', Resource: 'cluster-a', ...overrides });

  beforeAll(() => {
    // With Redis, AMIE batches load in a BullMQ worker (here, in this process); without, in-process.
    t.app.get(JobQueueService).startWorker();
  });
  beforeEach(async () => {
    site = await createSite(t, 'hpc');
  });

  it('groups charges by resource and record type, refunds negative; a resubmission moves its charge; a failed one does not', async () => {
    await post('Compute', [
      record({ LocalRecordID: 'job-1', SubmitTime: '2025-04-10T09:00:00Z', StartTime: '2025-04-10T10:00:00Z', EndTime: '2025-04-10T12:00:00Z', Charge: '10.5', Attributes: { NodeCount: 2, CpuCoreCount: '64' } }),
    ]);
    await post('Storage', [record({ LocalRecordID: 'st-1', Resource: 'store-a', CollectionTime: '2025-04-11T00:00:00Z', Charge: 100, Attributes: {} })]);
    await post('Adjustment', [record({ LocalRecordID: 'job-1', AdjustmentType: 'refund', StartTime: '2025-04-10T09:00:00Z', Charge: '2.25', Comment: 'node fault' })]);
    await waitLoaded(t);
    await drainRollups(t);
    const get = reader(t, await t.token('reader'));
    const res = await get('period=2025-04&source=amie&group_by=site,resource,record_type').expect(200);
    expect(res.body.rows.map((r: Row) => [r.site, r.meter, r.key, r.subkey, r.unit, r.quantity])).toEqual([
      ['hpc', 'amie.charge', 'cluster-a', 'adjustment:refund', 'charge', '-2.25'],
      ['hpc', 'amie.charge', 'cluster-a', 'compute', 'charge', '10.5'],
      ['hpc', 'amie.core_time', 'cluster-a', 'compute', 'core·s', '460800.000000'],
      ['hpc', 'amie.node_time', 'cluster-a', 'compute', 'node·s', '14400.000000'],
      ['hpc', 'amie.charge', 'store-a', 'storage', 'charge', '100'],
    ]);
    const day = (query: string) => get(`${query}&meter=amie.charge&record_type=compute&granularity=day&group_by=`).expect(200);
    expect((await day('period=2025-04')).body.rows.map((r: Row) => [r.period, r.quantity])).toEqual([['2025-04-10', '10.5']]);
    // Resubmitted with a later EndTime: the charge moves to the new day.
    await post('Compute', [
      record({ LocalRecordID: 'job-1', SubmitTime: '2025-04-10T09:00:00Z', StartTime: '2025-04-10T10:00:00Z', EndTime: '2025-04-12T12:00:00Z', Charge: '12', Attributes: { NodeCount: 2 } }),
    ]);
    await waitLoaded(t);
    const pending = await day('period=2025-04');
    expect(pending.body.complete).toBe(false);
    await drainRollups(t);
    expect((await day('period=2025-04')).body.rows.map((r: Row) => [r.period, r.quantity])).toEqual([['2025-04-12', '12']]);
    // A resubmission that fails validation leaves the loaded version counting.
    await post('Compute', [record({ LocalRecordID: 'job-1', SubmitTime: '2025-04-10T09:00:00Z', StartTime: '2025-04-10T10:00:00Z', EndTime: '2025-04-13T12:00:00Z', Charge: -1, Attributes: { NodeCount: 2 } })]);
    await waitLoaded(t);
    await drainRollups(t);
    expect((await day('period=2025-04')).body.rows.map((r: Row) => [r.period, r.quantity])).toEqual([['2025-04-12', '12']]);
  });

  it("answers today's AMIE records from the today cells: charges by record type, node and core time of the records that give them", async () => {
    const todayStart = Date.parse(new Date().toISOString().slice(0, 10) + 'T00:00:00Z');
    // Attributed to today (UTC) and not in the future.
    const end = new Date(Math.max(todayStart + 1, Date.now() - 60_000));
    const at = (ms: number) => new Date(end.getTime() - ms).toISOString();
    await post('Compute', [
      record({ LocalRecordID: 'today-1', SubmitTime: at(3 * 3_600_000), StartTime: at(7_200_000), EndTime: end.toISOString(), Charge: '10.5', Attributes: { NodeCount: 2, CpuCoreCount: '64' } }),
      record({ LocalRecordID: 'today-2', SubmitTime: at(3 * 3_600_000), StartTime: at(3_600_000), EndTime: end.toISOString(), Charge: '1', Attributes: { NodeCount: '3' } }),
      // Fails validation (a compute record needs NodeCount): counts nowhere.
      record({ LocalRecordID: 'today-3', SubmitTime: at(3 * 3_600_000), StartTime: at(3_600_000), EndTime: end.toISOString(), Charge: '0.25', Attributes: {} }),
    ]);
    await post('Storage', [record({ LocalRecordID: 'today-st', Resource: 'store-a', CollectionTime: end.toISOString(), Charge: 100, Attributes: {} })]);
    await post('Adjustment', [record({ LocalRecordID: 'today-1', AdjustmentType: 'refund', StartTime: end.toISOString(), Charge: '2.25', Comment: 'node fault' })]);
    await waitLoaded(t);
    await drainRollups(t);
    const cells = await t.runtime.dataSource.query(
      `SELECT meter, key, subkey, closed_part::text AS q, items, max_closed_end = $1::timestamptz AS latest
       FROM report_usage_today_cell WHERE project_id = 'TG-1' AND site = 'hpc' ORDER BY meter, key, subkey`,
      [end.toISOString()],
    );
    expect(cells).toEqual([
      { meter: 'amie.charge', key: 'cluster-a', subkey: 'adjustment:refund', q: '-2.25', items: 1, latest: true },
      { meter: 'amie.charge', key: 'cluster-a', subkey: 'compute', q: '11.5', items: 2, latest: true },
      { meter: 'amie.charge', key: 'store-a', subkey: 'storage', q: '100', items: 1, latest: true },
      { meter: 'amie.core_time', key: 'cluster-a', subkey: 'compute', q: '460800.000000', items: 1, latest: true },
      { meter: 'amie.node_time', key: 'cluster-a', subkey: 'compute', q: '25200.000000', items: 2, latest: true },
    ]);
    const day = new Date(todayStart).toISOString().slice(0, 10);
    const next = new Date(todayStart + 86_400_000).toISOString().slice(0, 10);
    const res = await reader(t, await t.token('reader'))(`start=${day}&end=${next}&source=amie&group_by=site,resource,record_type`).expect(200);
    expect(res.body.complete).toBe(true);
    expect(res.body.rows.map((r: Row) => [r.site, r.meter, r.key, r.subkey, r.quantity])).toEqual([
      ['hpc', 'amie.charge', 'cluster-a', 'adjustment:refund', '-2.25'],
      ['hpc', 'amie.charge', 'cluster-a', 'compute', '11.5'],
      ['hpc', 'amie.core_time', 'cluster-a', 'compute', '460800.000000'],
      ['hpc', 'amie.node_time', 'cluster-a', 'compute', '25200.000000'],
      ['hpc', 'amie.charge', 'store-a', 'storage', '100'],
    ]);
  });

  it('a charge keeps the scale of the largest-scale charge in it after a resubmission lowers it, fleet figures included (§1.4)', async () => {
    const job = (id: string, charge: string, project = 'TG-1') =>
      record({ LocalRecordID: id, LocalProjectID: project, SubmitTime: '2025-05-10T09:00:00Z', StartTime: '2025-05-10T10:00:00Z', EndTime: '2025-05-10T12:00:00Z', Charge: charge, Attributes: { NodeCount: 1 } });
    const get = reader(t, await t.token('reader'));
    // The fleet figure without a project reads site-day sums, the one of a project its day cells: both must write the sum as numeric does.
    const charges = async () => {
      const fleet = await get('period=2025-05&meter=amie.charge&group_by=').expect(200);
      const project = await get('period=2025-05&meter=amie.charge&group_by=&project_id=TG-1&project_id=TG-2').expect(200);
      return [fleet.body.rows.map((r: Row) => r.quantity), fleet.body.totals.by_meter[0]?.quantity, project.body.rows.map((r: Row) => r.quantity)];
    };
    await post('Compute', [job('sc-1', '10.125'), job('sc-2', '1.5', 'TG-2')]);
    await waitLoaded(t);
    await drainRollups(t);
    expect(await charges()).toEqual([['11.625'], '11.625', ['11.625']]);
    // The three-digit charge is replaced by a whole one: the largest scale left is TG-2's one digit.
    await post('Compute', [job('sc-1', '12')]);
    await waitLoaded(t);
    await drainRollups(t);
    expect(await charges()).toEqual([['13.5'], '13.5', ['13.5']]);
    // A sum written before the drain mended scales keeps its value and takes the scale again when migrated.
    await t.runtime.dataSource.query(`UPDATE report_usage_site_day_cell SET quantity = round(quantity, 4) WHERE meter = 'amie.charge'`);
    expect((await charges())[1]).toBe('13.5000');
    await t.runtime.dataSource.transaction(async (m) => new ReportSiteDayChargeScale1763802000000().up(m.queryRunner!));
    expect(await charges()).toEqual([['13.5'], '13.5', ['13.5']]);
  });
});
