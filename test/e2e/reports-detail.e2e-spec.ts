import { adjustment, compute, createSite, SiteCredentials, startUsageApp, storage, waitLoaded } from '../support/amie';
import { encodeCursor, queryDigest } from '../../src/reports/paging';
import { DetailService } from '../../src/reports/detail/detail.service';
import { EntitiesQueryDto } from '../../src/reports/detail/dto/entities-query.dto';
import { validateDto } from '../../src/http/validation.pipe';
import { almanach, drainRollups } from '../support/reports';
import { createPriceList } from '../support/pricing';
import { APP_START_TIMEOUT_MS, ADMIN_TOKEN, startTestApp, TestApp } from '../support/test-app';

/**
 * GET /reports/usage/entities (reports.md §3.2): lines from raw history,
 * clipped to the window, through the front door. History is written through
 * the Almanach and AMIE APIs, the flavor catalogue through its admin route.
 */
describe('GET /reports/usage/entities (reports.md §3.2)', () => {
  let t: TestApp;
  let site: SiteCredentials;
  let reader: string;
  let service: string;

  beforeAll(async () => {
    t = await startUsageApp({ REPORT_TIME_ZONE: 'UTC', CLOUD_SITE: 'cloud' });
  }, APP_START_TIMEOUT_MS);
  afterAll(async () => {
    await t?.close();
  });
  beforeEach(async () => {
    await t.reset();
    site = await createSite(t, 'site-a');
    reader = await t.token('reader');
    service = await t.token('service');
  });

  const get = (query: string, token = reader) => t.http.get(`/reports/usage/entities?${query}`).set('X-Auth-Token', token);
  const catalogue = (name: string, vcpus: number, ramMb: number, diskGb: number, aliases: string[] = []) =>
    t.http.put(`/admin/reports/flavors/${name}`).set('X-Auth-Token', ADMIN_TOKEN).send({ vcpus, ram_mb: ramMb, disk_gb: diskGb, aliases }).expect(201);
  const amie = async (type: string, records: Record<string, unknown>[]) => {
    const res = await t.http.post('/amie/usage').set(site.headers).send({ UsageType: type, Records: records }).expect(200);
    expect(res.body.ValidationFailedRecords).toEqual([]);
    await waitLoaded(t);
  };
  const volumeType = (name: string) =>
    t.http.post('/v1/volume_type').set('X-Auth-Token', service).send({ type_id: name, type_name: name }).expect(201);
  /** Exact sum of decimal strings with six fractional digits, through BigInt. */
  const sum6 = (values: string[]) => {
    const micro = values.reduce((acc, v) => acc + BigInt(v.replace('.', '')), 0n);
    const sign = micro < 0n ? '-' : '';
    const digits = (micro < 0n ? -micro : micro).toString().padStart(7, '0');
    return `${sign}${digits.slice(0, -6)}.${digits.slice(-6)}`;
  };

  /** §13 item 1: the exact-time example. */
  async function exactTimeHistory() {
    const a = almanach(t, service);
    await a.createInstance('p1', 'i1', '2025-03-01T00:00:00Z', 'a');
    await a.resizeInstance('i1', '2025-03-10T12:00:00.500Z', 'b');
    await a.deleteInstance('i1', '2025-03-20T00:00:00Z');
  }

  describe('Almanach lines', () => {
    it('gives the exact-time example (§13 item 1): lines of 820800.500000 s and 820799.500000 s that add up to the month', async () => {
      await exactTimeHistory();
      const res = await get('period=2025-03').expect(200);
      expect(Object.keys(res.body)).toEqual(['window', 'as_of', 'complete', 'pending_cells', 'lag_seconds', 'currency', 'rows', 'totals', 'next_cursor', 'warnings']);
      expect(res.body.window).toEqual({ start: '2025-03-01T00:00:00.000Z', end: '2025-04-01T00:00:00.000Z', tz: 'UTC', period: '2025-03' });
      expect(res.body.currency).toBeNull();
      expect(res.body.next_cursor).toBeNull();
      const base = {
        source: 'instance',
        project_id: 'p1',
        site: 'cloud',
        entity_id: 'i1',
        name: 'name-i1',
        meter: 'instance.time',
        subkey: '',
        unit: 's',
        unsized: true,
        vcpus: null,
        ram_mb: null,
        disk_gb: null,
        size_gb: null,
        username: null,
        local_record_id: null,
        record_type: null,
        cost: null,
        priced: null,
      };
      expect(res.body.rows).toEqual([
        { ...base, key: 'a', span_start: '2025-03-01T00:00:00.000000Z', span_end: '2025-03-10T12:00:00.500000Z', quantity: '820800.500000', quantity_hours: '228.000139' },
        { ...base, key: 'b', span_start: '2025-03-10T12:00:00.500000Z', span_end: '2025-03-20T00:00:00.000000Z', quantity: '820799.500000', quantity_hours: '227.999861' },
      ]);
      expect(Object.keys(res.body.rows[0])).toEqual(Object.keys(base).slice(0, 6).concat(['key', 'subkey', 'unit', 'span_start', 'span_end', 'quantity', 'quantity_hours']).concat(Object.keys(base).slice(8).filter((k) => k !== 'unit')));
      expect(sum6(res.body.rows.map((r: { quantity: string }) => r.quantity))).toBe('1641600.000000');
      expect(res.body.totals).toEqual({
        by_meter: [{ meter: 'instance.time', unit: 's', quantity: '1641600.000000', quantity_hours: '456.000000' }],
        cost: null,
        cost_complete: null,
      });
      expect(res.body.warnings).toEqual([
        { code: 'unsized', meter: 'instance.time', key: 'a', message: expect.stringContaining('not in the flavor catalogue') },
        { code: 'unsized', meter: 'instance.time', key: 'b', message: expect.stringContaining('not in the flavor catalogue') },
      ]);
    });

    it('says complete: false while dirty keys of the scope wait for the rollups, and the lines equal the month cells once drained', async () => {
      await exactTimeHistory();
      const before = await get('period=2025-03').expect(200);
      expect(before.body.complete).toBe(false);
      expect(before.body.pending_cells).toBeGreaterThanOrEqual(20);
      expect(before.body.lag_seconds).toEqual(expect.any(Number));
      const other = await get('period=2025-03&project_id=p2').expect(200);
      expect(other.body).toMatchObject({ complete: true, pending_cells: 0, lag_seconds: 0, rows: [] });
      await drainRollups(t);
      const after = await get('period=2025-03').expect(200);
      expect(after.body).toMatchObject({ complete: true, pending_cells: 0, lag_seconds: 0 });
      const cells: { key: string; quantity: string }[] = await t.runtime.dataSource.query(
        `SELECT key, quantity::text AS quantity FROM report_usage_month_cell WHERE project_id = 'p1' AND meter = 'instance.time' ORDER BY key`,
      );
      expect(after.body.rows.map((r: { key: string; quantity: string }) => ({ key: r.key, quantity: r.quantity }))).toEqual(cells);
      // §3.2's acceptance check: the lines add up to /reports/usage for the same window and filters.
      const usage = await t.http.get('/reports/usage?period=2025-03').set('X-Auth-Token', reader).expect(200);
      expect(usage.body.rows.map((r: { key: string; quantity: string }) => ({ key: r.key, quantity: r.quantity }))).toEqual(cells);
      expect(usage.body.totals.by_meter).toEqual(after.body.totals.by_meter);
    });

    it('adds derived lines for a catalogued flavor, reports an alias under the catalogue name, and none for an unsized one', async () => {
      await catalogue('m1.large', 4, 8192, 40, ['flavor-id-7']);
      const a = almanach(t, service);
      await a.createInstance('p1', 'i1', '2025-03-01T00:00:00Z', 'flavor-id-7');
      await a.deleteInstance('i1', '2025-03-01T01:00:00Z');
      await a.createInstance('p1', 'i2', '2025-03-01T00:00:00Z', 'mystery');
      await a.deleteInstance('i2', '2025-03-01T00:30:00Z');
      const res = await get('start=2025-03-01&end=2025-03-02').expect(200);
      const pick = (r: Record<string, unknown>) => [r.entity_id, r.meter, r.key, r.unit, r.quantity, r.quantity_hours, r.unsized, r.vcpus, r.ram_mb, r.disk_gb];
      expect(res.body.rows.map(pick)).toEqual([
        ['i1', 'instance.disk', 'm1.large', 'GB·s', '144000.000000', '40.000000', false, 4, 8192, 40],
        ['i1', 'instance.ram', 'm1.large', 'MB·s', '29491200.000000', '8192.000000', false, 4, 8192, 40],
        ['i1', 'instance.time', 'm1.large', 's', '3600.000000', '1.000000', false, 4, 8192, 40],
        ['i1', 'instance.vcpu', 'm1.large', 'vcpu·s', '14400.000000', '4.000000', false, 4, 8192, 40],
        ['i2', 'instance.time', 'mystery', 's', '1800.000000', '0.500000', true, null, null, null],
      ]);
      expect(res.body.warnings).toEqual([{ code: 'unsized', meter: 'instance.time', key: 'mystery', message: expect.any(String) }]);
      expect(res.body.totals.by_meter.map((m: { meter: string; quantity: string }) => [m.meter, m.quantity])).toEqual([
        ['instance.disk', '144000.000000'],
        ['instance.ram', '29491200.000000'],
        ['instance.time', '5400.000000'],
        ['instance.vcpu', '14400.000000'],
      ]);
      // The flavor filter reads the catalogue name, not the stored alias.
      const byName = await get('start=2025-03-01&end=2025-03-02&flavor=m1.large&meter=instance.vcpu').expect(200);
      expect(byName.body.rows.map(pick)).toEqual([['i1', 'instance.vcpu', 'm1.large', 'vcpu·s', '14400.000000', '4.000000', false, 4, 8192, 40]]);
      expect((await get('start=2025-03-01&end=2025-03-02&flavor=flavor-id-7').expect(200)).body.rows).toEqual([]);
    });

    it('gives volume lines (§13 item 4): 100 GB ssd for 10 days then 200 GB for 5 days = 172800000.000000 GB·s', async () => {
      await volumeType('ssd');
      const a = almanach(t, service);
      await a.createVolume('p1', 'v1', '2025-03-01T00:00:00Z', 100, 'ssd');
      await a.resizeVolume('v1', '2025-03-11T00:00:00Z', 200);
      await a.deleteVolume('v1', '2025-03-16T00:00:00Z');
      const res = await get('period=2025-03&source=volume').expect(200);
      expect(res.body.rows).toEqual([
        expect.objectContaining({ source: 'volume', entity_id: 'v1', name: 'vol-v1', meter: 'volume.size', key: 'ssd', unit: 'GB·s', span_start: '2025-03-01T00:00:00.000000Z', span_end: '2025-03-11T00:00:00.000000Z', quantity: '86400000.000000', quantity_hours: '24000.000000', size_gb: 100, vcpus: null, unsized: false }),
        expect.objectContaining({ source: 'volume', entity_id: 'v1', meter: 'volume.size', key: 'ssd', span_start: '2025-03-11T00:00:00.000000Z', span_end: '2025-03-16T00:00:00.000000Z', quantity: '86400000.000000', size_gb: 200 }),
      ]);
      expect(res.body.totals.by_meter).toEqual([{ meter: 'volume.size', unit: 'GB·s', quantity: '172800000.000000', quantity_hours: '48000.000000' }]);
      expect((await get('period=2025-03&volume_type=ssd').expect(200)).body.rows).toHaveLength(2);
      expect((await get('period=2025-03&volume_type=hdd').expect(200)).body.rows).toEqual([]);
      expect((await get('period=2025-03&volume_type=ssd&flavor=ssd').expect(200)).body.rows).toEqual([]);
    });

    it('measures an open version up to as_of, and cuts every line at min(end, as_of)', async () => {
      const a = almanach(t, service);
      const created = new Date(Date.now() - 2 * 3_600_000).toISOString();
      await a.createInstance('p1', 'open-1', created, 'a');
      const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
      const res = await get(`start=${created}&end=${tomorrow}`).expect(200);
      expect(res.body.rows).toHaveLength(1);
      const [line] = res.body.rows;
      expect(line.span_start).toBe(`${created.slice(0, 23)}000Z`);
      expect(line.span_end.slice(0, 23)).toBe(res.body.as_of.slice(0, 23));
      expect(line.span_end).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
      const seconds = Number(line.quantity);
      expect(seconds).toBeGreaterThanOrEqual(7200);
      expect(seconds).toBeLessThan(7200 + 120);
      expect(line.quantity).toMatch(/^\d+\.\d{6}$/);
    });
  });

  describe('windows', () => {
    it('cuts lines at microsecond bounds', async () => {
      await exactTimeHistory();
      const res = await get('start=2025-03-10T12:00:00.250001Z&end=2025-03-10T13:00:00.750000%2B01:00').expect(200);
      expect(res.body.window).toMatchObject({ start: '2025-03-10T12:00:00.250Z', end: '2025-03-10T12:00:00.750Z', period: null });
      expect(res.body.rows.map((r: Record<string, string>) => [r.key, r.span_start, r.span_end, r.quantity])).toEqual([
        ['a', '2025-03-10T12:00:00.250001Z', '2025-03-10T12:00:00.500000Z', '0.249999'],
        ['b', '2025-03-10T12:00:00.500000Z', '2025-03-10T12:00:00.750000Z', '0.250000'],
      ]);
      expect(res.body.totals.by_meter[0].quantity).toBe('0.499999');
    });

    it('gives no line for a zero-length overlap', async () => {
      await exactTimeHistory();
      const res = await get('start=2025-03-20T00:00:00Z&end=2025-03-21T00:00:00Z').expect(200);
      expect(res.body.rows).toEqual([]);
      expect(res.body.totals.by_meter).toEqual([]);
    });

    it('cuts local days of the asked zone across DST: Berlin 2025-03-30 is 23 h, 2025-10-26 25 h; Santiago 2025-09-07 starts at 04:00Z', async () => {
      const a = almanach(t, service);
      await a.createInstance('p1', 'i1', '2025-01-01T00:00:00Z', 'a');
      await a.deleteInstance('i1', '2025-12-01T00:00:00Z');
      const spring = await get('period=2025-03-30&tz=Europe/Berlin').expect(200);
      expect(spring.body.rows.map((r: Record<string, string>) => [r.span_start, r.span_end, r.quantity, r.quantity_hours])).toEqual([
        ['2025-03-29T23:00:00.000000Z', '2025-03-30T22:00:00.000000Z', '82800.000000', '23.000000'],
      ]);
      const autumn = await get('period=2025-10-26&tz=Europe/Berlin').expect(200);
      expect(autumn.body.rows[0].quantity_hours).toBe('25.000000');
      const month = await get('period=2025-03&tz=Europe/Berlin').expect(200);
      expect(month.body.rows[0]).toMatchObject({ span_start: '2025-02-28T23:00:00.000000Z', span_end: '2025-03-31T22:00:00.000000Z', quantity_hours: '743.000000' });
      const santiago = await get('period=2025-09-07&tz=America/Santiago').expect(200);
      expect(santiago.body.window.start).toBe('2025-09-07T04:00:00.000Z');
      expect(santiago.body.rows[0]).toMatchObject({ span_start: '2025-09-07T04:00:00.000000Z', quantity: '82800.000000' });
    });
  });

  describe('AMIE lines', () => {
    it('gives one line per AMIE meter of each record: compute, storage and a negative refund, with record identities', async () => {
      await amie('Compute', [
        compute(1, {
          LocalRecordID: 'job-1',
          LocalProjectID: 'p1',
          Username: 'alice',
          SubmitTime: '2025-03-05T09:00:00Z',
          StartTime: '2025-03-05T10:00:00Z',
          EndTime: '2025-03-05T11:00:00.5Z',
          Charge: '10.25',
          Attributes: { NodeCount: 2, CpuCoreCount: '8', JobName: 'sim-1' },
        }),
      ]);
      await amie('Storage', [storage(1, { LocalRecordID: 'st-1', LocalProjectID: 'p1', Username: 'bob', CollectionTime: '2025-03-06T00:00:00Z', Charge: '3.5' })]);
      await amie('Adjustment', [adjustment(1, { LocalRecordID: 'job-1', LocalProjectID: 'p1', AdjustmentType: 'refund', StartTime: '2025-03-05T09:00:00Z', Charge: '4', Username: 'alice' })]);
      const res = await get('period=2025-03').expect(200);
      const pick = (r: Record<string, unknown>) => [r.source, r.site, r.entity_id, r.name, r.meter, r.key, r.subkey, r.unit, r.span_start, r.span_end, r.quantity, r.quantity_hours, r.username, r.local_record_id, r.record_type];
      expect(res.body.rows.map(pick)).toEqual([
        ['amie', 'site-a', 'site-a/adjustment/cluster-a/job-1', null, 'amie.charge', 'cluster-a', 'adjustment:refund', 'charge', '2025-03-05T09:00:00.000000Z', '2025-03-05T09:00:00.000000Z', '-4', null, 'alice', 'job-1', 'adjustment:refund'],
        ['amie', 'site-a', 'site-a/compute/cluster-a/job-1', 'sim-1', 'amie.charge', 'cluster-a', 'compute', 'charge', '2025-03-05T11:00:00.500000Z', '2025-03-05T11:00:00.500000Z', '10.25', null, 'alice', 'job-1', 'compute'],
        ['amie', 'site-a', 'site-a/compute/cluster-a/job-1', 'sim-1', 'amie.core_time', 'cluster-a', 'compute', 'core·s', '2025-03-05T11:00:00.500000Z', '2025-03-05T11:00:00.500000Z', '28804.000000', '8.001111', 'alice', 'job-1', 'compute'],
        ['amie', 'site-a', 'site-a/compute/cluster-a/job-1', 'sim-1', 'amie.node_time', 'cluster-a', 'compute', 'node·s', '2025-03-05T11:00:00.500000Z', '2025-03-05T11:00:00.500000Z', '7201.000000', '2.000278', 'alice', 'job-1', 'compute'],
        ['amie', 'site-a', 'site-a/storage/store-a/st-1', null, 'amie.charge', 'store-a', 'storage', 'charge', '2025-03-06T00:00:00.000000Z', '2025-03-06T00:00:00.000000Z', '3.5', null, 'bob', 'st-1', 'storage'],
      ]);
      expect(res.body.rows[0]).toMatchObject({ vcpus: null, ram_mb: null, disk_gb: null, size_gb: null, unsized: false, project_id: 'p1' });
      expect(res.body.totals.by_meter).toEqual([
        { meter: 'amie.charge', unit: 'charge', quantity: '9.75', quantity_hours: null },
        { meter: 'amie.core_time', unit: 'core·s', quantity: '28804.000000', quantity_hours: '8.001111' },
        { meter: 'amie.node_time', unit: 'node·s', quantity: '7201.000000', quantity_hours: '2.000278' },
      ]);
      const refunds = await get('period=2025-03&record_type=adjustment:refund').expect(200);
      expect(refunds.body.rows.map((r: Record<string, unknown>) => r.entity_id)).toEqual(['site-a/adjustment/cluster-a/job-1']);
      const storageOnly = await get('period=2025-03&resource=store-a').expect(200);
      expect(storageOnly.body.rows.map((r: Record<string, unknown>) => r.entity_id)).toEqual(['site-a/storage/store-a/st-1']);
      expect((await get('period=2025-03&site=cloud').expect(200)).body.rows).toEqual([]);
      expect((await get('period=2025-03&site=site-a&meter=amie.charge').expect(200)).body.rows).toHaveLength(3);
    });
  });

  describe('cost (§3.2, §4.5)', () => {
    type Row = Record<string, any>;
    const usage = async (query: string): Promise<Row> => (await t.http.get(`/reports/usage?${query}`).set('X-Auth-Token', reader).expect(200)).body;
    const costs = (rows: Row[]) => rows.map((r) => [r.entity_id, r.meter, r.key, r.cost, r.priced]);

    it('prices each day of a line with the item live that day, one half-even rounding per line; unpriced lines have no cost; the priced costs add up to the report of the same window', async () => {
      // EUR: m1.a at 1.00 per hour until 2025-03-05, 2.00 from then on; amie.charge of cluster-a at 0.5 per unit; nothing for m1.z.
      await createPriceList(
        t,
        {
          name: 'eur',
          currency: 'EUR',
          items: [
            { meter: 'instance.time', key: 'm1.a', unit_price: '1.00', price_unit: 'hour', valid_from: '2025-01-01', valid_to: '2025-03-05' },
            { meter: 'instance.time', key: 'm1.a', unit_price: '2.00', price_unit: 'hour', valid_from: '2025-03-05' },
            { meter: 'amie.charge', key: 'cluster-a', subkey: '*', unit_price: '0.5', price_unit: 'unit', valid_from: '2025-01-01' },
          ],
        },
        { settle: true },
      );
      const a = almanach(t, service);
      // 12 h on the 3rd and 24 h on the 4th at 1.00, 24 h on the 5th at 2.00: 84.000000.
      await a.createInstance('p1', 'i1', '2025-03-03T12:00:00Z', 'm1.a');
      await a.deleteInstance('i1', '2025-03-06T00:00:00Z');
      await a.createInstance('p1', 'i2', '2025-03-10T00:00:00Z', 'm1.z');
      await a.deleteInstance('i2', '2025-03-10T01:00:00Z');
      await amie('Compute', [
        compute(1, { LocalRecordID: 'job-1', LocalProjectID: 'p1', SubmitTime: '2025-03-07T09:00:00Z', StartTime: '2025-03-07T10:00:00Z', EndTime: '2025-03-07T11:00:00Z', Charge: '10.25', Attributes: { NodeCount: 1, CpuCoreCount: 2 } }),
      ]);
      await drainRollups(t);

      const res = await get('period=2025-03&currency=EUR').expect(200);
      expect(res.body.currency).toBe('EUR');
      expect(costs(res.body.rows)).toEqual([
        ['site-a/compute/cluster-a/job-1', 'amie.charge', 'cluster-a', '5.125000', true],
        ['site-a/compute/cluster-a/job-1', 'amie.core_time', 'cluster-a', null, false],
        ['site-a/compute/cluster-a/job-1', 'amie.node_time', 'cluster-a', null, false],
        ['i1', 'instance.time', 'm1.a', '84.000000', true],
        ['i2', 'instance.time', 'm1.z', null, false],
      ]);
      expect(res.body.totals).toMatchObject({ cost: '89.125000', cost_complete: false });
      expect(res.body.warnings.filter((w: Row) => w.code === 'unpriced').map((w: Row) => [w.meter, w.key])).toEqual([
        ['amie.core_time', 'cluster-a'],
        ['amie.node_time', 'cluster-a'],
        ['instance.time', 'm1.z'],
      ]);
      // Whole hours and whole charges round nowhere: the line costs add up to the report's, row by row and in total.
      const report = await usage('period=2025-03&currency=EUR&group_by=project_id,key,subkey');
      const reportCost = (meter: string, key: string) => report.rows.find((r: Row) => r.meter === meter && r.key === key);
      expect(reportCost('instance.time', 'm1.a')).toMatchObject({ cost: '84.000000', priced: true });
      expect(reportCost('amie.charge', 'cluster-a')).toMatchObject({ cost: '5.125000', priced: true });
      expect(reportCost('instance.time', 'm1.z')).toMatchObject({ cost: null, priced: false });
      expect(report.totals).toMatchObject({ cost: res.body.totals.cost, cost_complete: false });
      expect(sum6(res.body.rows.filter((r: Row) => r.priced).map((r: Row) => r.cost))).toBe(report.totals.cost);
      // A window of one day: the day's item alone.
      expect(costs((await get('period=2025-03-05&currency=EUR&source=instance').expect(200)).body.rows)).toEqual([['i1', 'instance.time', 'm1.a', '48.000000', true]]);
      // Without a currency the cost columns stay null.
      expect((await get('period=2025-03').expect(200)).body.rows.every((r: Row) => r.cost === null && r.priced === null)).toBe(true);
    });

    it('rounds once per line, so the line costs may differ from the report (rated per cell) in the last digits (§3.2 decision)', async () => {
      await createPriceList(t, { name: 'eur', currency: 'EUR', items: [{ meter: 'instance.time', key: '*', unit_price: '0.000001', price_unit: 'hour', valid_from: '2025-01-01' }] }, { settle: true });
      const a = almanach(t, service);
      // Half an hour on each of two days: each rated cell is 0.0000005 → 0.000000 (half-even), the line's hour 0.000001.
      await a.createInstance('p1', 'i1', '2025-03-01T23:30:00Z', 'm1.a');
      await a.deleteInstance('i1', '2025-03-02T00:30:00Z');
      await drainRollups(t);
      const lines = (await get('period=2025-03&currency=EUR').expect(200)).body;
      expect(costs(lines.rows)).toEqual([['i1', 'instance.time', 'm1.a', '0.000001', true]]);
      expect(lines.totals).toMatchObject({ cost: '0.000001', cost_complete: true });
      const report = await usage('period=2025-03&currency=EUR');
      expect(report.rows).toEqual([expect.objectContaining({ quantity: '3600.000000', cost: '0.000000', priced: true })]);
      // The difference is within one unit of the sixth digit per rated cell (two here).
      const micro = (v: string) => BigInt(v.replace('.', ''));
      const diff = micro(lines.totals.cost) - micro(report.totals.cost);
      expect(diff !== 0n && diff <= 2n && diff >= -2n).toBe(true);
    });

    it('uses the list naming the project before the default list; the CSV carries the same costs as JSON; a currency with no list is a 400', async () => {
      await createPriceList(t, { name: 'eur', currency: 'EUR', items: [{ meter: 'instance.time', key: '*', unit_price: '1', price_unit: 'hour', valid_from: '2025-01-01' }] }, { settle: true });
      await createPriceList(t, { name: 'eur-p2', currency: 'EUR', project_ids: ['p2'], items: [{ meter: 'instance.time', key: '*', unit_price: '3', price_unit: 'hour', valid_from: '2025-01-01' }] }, { settle: true });
      const a = almanach(t, service);
      await a.createInstance('p1', 'i1', '2025-03-01T00:00:00Z', 'm1.a');
      await a.deleteInstance('i1', '2025-03-01T02:00:00Z');
      await a.createInstance('p2', 'i2', '2025-03-01T00:00:00Z', 'm1.a');
      await a.deleteInstance('i2', '2025-03-01T02:00:00Z');
      await drainRollups(t);
      const json = await get('period=2025-03&currency=EUR').expect(200);
      expect(json.body.rows.map((r: Row) => [r.project_id, r.cost])).toEqual([
        ['p1', '2.000000'],
        ['p2', '6.000000'],
      ]);
      const report = await usage('period=2025-03&currency=EUR&group_by=project_id');
      expect(report.rows.map((r: Row) => [r.project_id, r.cost])).toEqual([
        ['p1', '2.000000'],
        ['p2', '6.000000'],
      ]);
      // CSV: the same rows, cost columns included.
      const csv = await get('period=2025-03&currency=EUR&format=csv').buffer(true).parse((r, done) => {
        let text = '';
        r.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
        r.on('end', () => done(null, text));
      });
      expect(csv.status).toBe(200);
      const lines = (csv.body as string).split('\r\n');
      expect(lines.pop()).toBe('');
      expect(lines[0]).toBe(Object.keys(json.body.rows[0]).join(','));
      expect(lines[0].endsWith(',cost,priced')).toBe(true);
      expect(lines.slice(1)).toEqual(json.body.rows.map((r: Row) => Object.values(r).map((v) => (v === null ? '' : String(v))).join(',')));
      // A currency with no price list at all: 400 naming the field, in JSON and CSV alike.
      for (const format of ['json', 'csv']) {
        expect((await get(`period=2025-03&currency=USD&format=${format}`).expect(400)).body).toEqual({ error: 'currency: no price list for USD', fields: { currency: 'no price list for USD' } });
      }
    });
  });

  describe('paging (§1.6, §13 item 7)', () => {
    async function manyLines() {
      await catalogue('a', 2, 4096, 20);
      const a = almanach(t, service);
      for (const [project, id] of [['p2', 'i3'], ['p1', 'i2'], ['p1', 'i1']]) {
        await a.createInstance(project, id, '2025-03-01T00:00:00Z', 'a');
        await a.resizeInstance(id, '2025-03-02T00:00:00.000001Z', 'b');
        await a.deleteInstance(id, '2025-03-03T00:00:00Z');
      }
      await volumeType('ssd');
      await a.createVolume('p1', 'v1', '2025-03-01T00:00:00Z', 10, 'ssd');
      await a.deleteVolume('v1', '2025-03-04T00:00:00Z');
      await amie('Compute', [compute(1, { LocalRecordID: 'j1', LocalProjectID: 'p1', EndTime: '2025-03-02T00:00:00Z', StartTime: '2025-03-01T23:00:00Z', SubmitTime: '2025-03-01T22:00:00Z' })]);
    }

    it('with limit=1, the rows of all pages are exactly the rows of one unpaged call, with identical totals on every page', async () => {
      await manyLines();
      const whole = await get('period=2025-03').expect(200);
      expect(whole.body.next_cursor).toBeNull();
      expect(whole.body.rows.length).toBe(19);
      // The order of §3.2: project_id, source, entity_id, span_start, meter.
      expect(whole.body.rows.map((r: Record<string, string>) => `${r.project_id} ${r.source} ${r.entity_id} ${r.span_start.slice(8, 10)} ${r.meter}`)).toEqual([
        'p1 amie site-a/compute/cluster-a/j1 02 amie.charge',
        'p1 amie site-a/compute/cluster-a/j1 02 amie.core_time',
        'p1 amie site-a/compute/cluster-a/j1 02 amie.node_time',
        'p1 instance i1 01 instance.disk',
        'p1 instance i1 01 instance.ram',
        'p1 instance i1 01 instance.time',
        'p1 instance i1 01 instance.vcpu',
        'p1 instance i1 02 instance.time',
        'p1 instance i2 01 instance.disk',
        'p1 instance i2 01 instance.ram',
        'p1 instance i2 01 instance.time',
        'p1 instance i2 01 instance.vcpu',
        'p1 instance i2 02 instance.time',
        'p1 volume v1 01 volume.size',
        'p2 instance i3 01 instance.disk',
        'p2 instance i3 01 instance.ram',
        'p2 instance i3 01 instance.time',
        'p2 instance i3 01 instance.vcpu',
        'p2 instance i3 02 instance.time',
      ]);
      const pages: unknown[] = [];
      let cursor: string | null = null;
      let calls = 0;
      do {
        const res: { body: { rows: unknown[]; totals: unknown; warnings: unknown; next_cursor: string | null } } = await get(
          `period=2025-03&limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        ).expect(200);
        expect(res.body.rows.length).toBeLessThanOrEqual(1);
        expect(res.body.totals).toEqual(whole.body.totals);
        expect(res.body.warnings).toEqual(whole.body.warnings);
        pages.push(...res.body.rows);
        cursor = res.body.next_cursor;
        calls++;
      } while (cursor && calls < 100);
      expect(pages).toEqual(whole.body.rows);
      expect(calls).toBe(whole.body.rows.length);
      // The lines add up to /reports/usage, meter by meter (§3.2), for every source at once.
      await drainRollups(t);
      const usage = await t.http.get('/reports/usage?period=2025-03&group_by=source').set('X-Auth-Token', reader).expect(200);
      expect(usage.body.totals.by_meter).toEqual(whole.body.totals.by_meter);
      const p1 = await t.http.get('/reports/usage?period=2025-03&project_id=p1&meter=instance.time').set('X-Auth-Token', reader).expect(200);
      expect(p1.body.totals.by_meter).toEqual((await get('period=2025-03&project_id=p1&meter=instance.time').expect(200)).body.totals.by_meter);
    });

    it('refuses a cursor reused with other parameters, and one that is not a cursor', async () => {
      await manyLines();
      const first = await get('period=2025-03&limit=2').expect(200);
      const whole2 = (await get('period=2025-03').expect(200)).body.rows;
      const cursor = encodeURIComponent(first.body.next_cursor);
      // Another page size is the same query.
      expect((await get(`period=2025-03&limit=3&cursor=${cursor}`).expect(200)).body.rows[0]).toEqual(
        (await get('period=2025-03&limit=3').expect(200)).body.rows[2],
      );
      const other = await get(`period=2025-03&limit=2&project_id=p1&cursor=${cursor}`).expect(400);
      expect(other.body).toEqual({ error: expect.stringMatching(/^cursor: /), fields: { cursor: expect.any(String) } });
      expect((await get(`period=2025-04&limit=2&cursor=${cursor}`).expect(400)).body.error).toMatch(/^cursor: /);
      expect((await get(`period=2025-03&cursor=bm9wZQ`).expect(400)).body.error).toBe('cursor: is not a cursor of this report');
      expect((await get(`period=2025-03&cursor=%7B%7D`).expect(400)).body.error).toBe('cursor: is not a cursor of this report');
      // A forged cursor of the right query whose keys are not what a page gives never reaches the database.
      const forged = (keys: string[]) => encodeURIComponent(encodeCursor(queryDigest({ period: '2025-03' }, 'usage/entities'), keys));
      const good = JSON.parse(Buffer.from(first.body.next_cursor, 'base64url').toString('utf8')).k as string[];
      expect((await get(`period=2025-03&cursor=${forged(good)}`).expect(200)).body.rows[0]).toEqual(whole2[2]);
      for (const bad of [['p1', 'instance', 'i1', '2025-02-30T00:00:00.000000Z', 'instance.time', '0'], ['p1', 'instance', 'i1', 'soon', 'instance.time', '0'], ['p1\u0000', 'instance', 'i1', '2025-03-01T00:00:00.000000Z', 'instance.time', '0'], ['p1']]) {
        expect((await get(`period=2025-03&cursor=${forged(bad)}`).expect(400)).body.error).toBe('cursor: is not a cursor of this report');
      }
    });
  });

  describe('the CSV hand-over (§1.7)', () => {
    it('gives one ordered statement whose mapped rows are the JSON rows, field for field, in the CSV column order', async () => {
      await catalogue('a', 2, 1024, 10);
      await exactTimeHistory();
      await amie('Compute', [compute(1, { LocalProjectID: 'p1', Username: 'alice', EndTime: '2025-03-02T00:00:00Z', StartTime: '2025-03-01T23:00:00Z', SubmitTime: '2025-03-01T22:00:00Z' })]);
      const user = { tokenId: 't', name: 'u', role: 'user' as const, userId: 'bob', projectIds: ['p1'] };
      const json = await get('period=2025-03', await t.token('user', { userId: 'bob', projectIds: ['p1'] })).expect(200);
      const query = validateDto(EntitiesQueryDto, { period: '2025-03' }, 'query');
      const handover = await t.app.get(DetailService).export(user, query);
      expect(handover.columns).toEqual(Object.keys(json.body.rows[0]));
      const rows = (await t.runtime.dataSource.query(handover.sql, handover.params)).map(handover.row);
      expect(rows).toEqual(json.body.rows);
      expect(rows.filter((r: { source: string }) => r.source === 'amie').map((r: { username: string | null }) => r.username)).toEqual([null, null, null]);
      expect(handover.window).toEqual({ start: new Date('2025-03-01T00:00:00Z'), end: new Date('2025-04-01T00:00:00Z'), period: '2025-03' });
    });
  });

  describe('CSV (§1.7)', () => {
    it('answers every line as CSV with format=csv or Accept: text/csv, the rows equal to the JSON rows field for field', async () => {
      await catalogue('a', 2, 1024, 10);
      await exactTimeHistory();
      const json = await get('period=2025-03').expect(200);
      const res = await get('period=2025-03&format=csv').buffer(true).parse((r, done) => {
        let text = '';
        r.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
        r.on('end', () => done(null, text));
      });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(res.headers['content-disposition']).toBe('attachment; filename="usage-entities-2025-03.csv"');
      const lines = (res.body as string).split('\r\n');
      expect(lines.pop()).toBe('');
      expect(lines[0]).toBe(Object.keys(json.body.rows[0]).join(','));
      const csvOf = (v: unknown) => (v === null ? '' : String(v));
      expect(lines.slice(1)).toEqual(json.body.rows.map((r: Record<string, unknown>) => Object.values(r).map(csvOf).join(',')));
      const byAccept = await t.http.get('/reports/usage/entities?start=2025-03-01&end=2025-03-02').set('X-Auth-Token', reader).set('Accept', 'text/csv').expect(200);
      expect(byAccept.headers['content-disposition']).toBe('attachment; filename="usage-entities-20250301T000000Z--20250302T000000Z.csv"');
      expect((await get('period=2025-03&format=csv&limit=5').expect(400)).body.error).toBe('limit: not accepted with CSV: an export has no pages');
      const user = await t.token('user', { userId: 'u', projectIds: ['p9'] });
      await get('period=2025-03&format=csv&project_id=p1', user).expect(403);
    });
  });

  describe('scope and roles (§1.2, §1.3)', () => {
    beforeEach(async () => {
      const a = almanach(t, service);
      await a.createInstance('p1', 'i1', '2025-03-01T00:00:00Z', 'a');
      await a.deleteInstance('i1', '2025-03-02T00:00:00Z');
      await a.createInstance('p2', 'i2', '2025-03-01T00:00:00Z', 'a');
      await a.deleteInstance('i2', '2025-03-02T00:00:00Z');
      await amie('Compute', [
        compute(1, { LocalRecordID: 'mine', LocalProjectID: 'p1', Username: 'user-1', EndTime: '2025-03-01T12:00:00Z', StartTime: '2025-03-01T11:00:00Z', SubmitTime: '2025-03-01T10:00:00Z', Attributes: { NodeCount: 1 } }),
        compute(2, { LocalRecordID: 'theirs', LocalProjectID: 'p1', Username: 'someone', EndTime: '2025-03-01T12:00:00Z', StartTime: '2025-03-01T11:00:00Z', SubmitTime: '2025-03-01T10:00:00Z', Attributes: { NodeCount: 1 } }),
      ]);
    });

    it('narrows a user token to its projects, refuses a foreign project with 403, and hides other usernames', async () => {
      const user = await t.token('user', { userId: 'user-1', projectIds: ['p1'] });
      const own = await get('period=2025-03', user).expect(200);
      expect([...new Set(own.body.rows.map((r: Record<string, string>) => r.project_id))]).toEqual(['p1']);
      expect(own.body.rows.filter((r: Record<string, string>) => r.meter === 'amie.charge').map((r: Record<string, string>) => [r.local_record_id, r.username])).toEqual([
        ['mine', 'user-1'],
        ['theirs', null],
      ]);
      expect(own.body.totals.by_meter.find((m: Record<string, string>) => m.meter === 'instance.time').quantity).toBe('86400.000000');
      const filtered = await get('period=2025-03&project_id=p1', user).expect(200);
      expect(filtered.body.rows).toEqual(own.body.rows);
      const foreign = await get('period=2025-03&project_id=p1,p2', user).expect(403);
      expect(foreign.body).toEqual({ error: expect.any(String) });
      await get('period=2025-03&project_id=nowhere', user).expect(403);
      const none = await t.token('user', { userId: 'user-2', projectIds: [] });
      expect((await get('period=2025-03', none).expect(200)).body).toMatchObject({ rows: [], totals: { by_meter: [] } });
      // The other roles see every project and every username.
      for (const token of [reader, service, await t.token('admin')]) {
        const all = await get('period=2025-03', token).expect(200);
        expect([...new Set(all.body.rows.map((r: Record<string, string>) => r.project_id))]).toEqual(['p1', 'p2']);
        expect(all.body.rows.filter((r: Record<string, string>) => r.meter === 'amie.charge').map((r: Record<string, string>) => r.username)).toEqual(['user-1', 'someone']);
      }
    });

    it('answers 401 without a token or with an unknown one', async () => {
      expect((await t.http.get('/reports/usage/entities?period=2025-03').expect(401)).body).toEqual({ error: expect.any(String) });
      await get('period=2025-03', 'not-a-token').expect(401);
    });
  });

  describe('400s (§1.1)', () => {
    it.each([
      ['', 'start: required (or give period)'],
      ['start=2025-03-01', 'end: required (or give period)'],
      ['start=2025-03-01T00:00:00&end=2025-04-01', 'start: needs Z or an offset'],
      ['period=2025-03&start=2025-03-01', 'period: give either period or start and end, not both'],
      ['start=2025-03-02&end=2025-03-01', 'end: must be later than start'],
      ['period=2025-13', 'period: not a valid month'],
      ['period=2025-03&tz=Mars/Olympus', 'tz: not a time zone PostgreSQL knows'],
      ['period=2025-03&grop_by=project_id', 'grop_by: not a known parameter'],
      ['period=2025-03&group_by=project_id', 'group_by: not a known parameter'],
      ['period=2025-03&meter=instance.gpu', 'meter: values must be among instance.time, instance.vcpu, instance.ram, instance.disk, volume.size, amie.charge, amie.node_time, amie.core_time'],
      ['period=2025-03&source=cloud', 'source: values must be among instance, volume, amie'],
      ['period=2025-03&limit=0', 'limit: must be a whole number between 1 and 10000'],
      ['period=2025-03&limit=10001', 'limit: must be a whole number between 1 and 10000'],
      ['period=2025-03&limit=ten', 'limit: must be a whole number between 1 and 10000'],
      ['period=2025-03&limit=1.5', 'limit: must be a whole number between 1 and 10000'],
      ['period=2025-03&currency=eur', 'currency: must be a three-letter ISO 4217 code or SU'],
      ['period=2025-03&currency=EUR', 'currency: no price list for EUR'],
      ['period=2025-03&format=xml', 'format: must be json or csv'],
      ['period=2025-03&format=csv&bom=2', 'bom: must be 0 or 1'],
    ])('%s → %s', async (query, error) => {
      const res = await get(query).expect(400);
      const [field, rule] = [error.slice(0, error.indexOf(': ')), error.slice(error.indexOf(': ') + 2)];
      expect(res.body).toEqual({ error, fields: expect.objectContaining({ [field]: rule }) });
    });

    it('accepts the largest limit', async () => {
      await get('period=2025-03&limit=10000').expect(200);
    });
  });
});

describe('GET /reports/usage/entities with REPORT_CURRENCY set and no price list', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ REPORT_TIME_ZONE: 'UTC', REPORT_CURRENCY: 'EUR' });
    await t.reset();
  }, APP_START_TIMEOUT_MS);
  afterAll(async () => {
    await t?.close();
  });

  it('echoes the currency and marks every line unpriced (cost null, priced false, totals.cost null and cost_complete false, a warning per meter and key)', async () => {
    const service = await t.token('service');
    const a = almanach(t, service);
    await a.createInstance('p1', 'i1', '2025-03-01T00:00:00Z', 'a');
    await a.deleteInstance('i1', '2025-03-01T01:00:00Z');
    const res = await t.http.get('/reports/usage/entities?period=2025-03').set('X-Auth-Token', service).expect(200);
    expect(res.body.currency).toBe('EUR');
    expect(res.body.rows).toEqual([expect.objectContaining({ key: 'a', cost: null, priced: false })]);
    expect(res.body.totals).toEqual({ by_meter: [expect.objectContaining({ meter: 'instance.time', quantity: '3600.000000' })], cost: null, cost_complete: false });
    expect(res.body.warnings).toEqual([
      { code: 'unpriced', meter: 'instance.time', key: 'a', message: expect.stringContaining('EUR') },
      { code: 'unsized', meter: 'instance.time', key: 'a', message: expect.any(String) },
    ]);
    const empty = await t.http.get('/reports/usage/entities?period=2024-03').set('X-Auth-Token', service).expect(200);
    expect(empty.body.totals).toEqual({ by_meter: [], cost: null, cost_complete: true });
  });
});
