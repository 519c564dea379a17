import Decimal from 'decimal.js';
import { compute, createSite, startUsageApp, waitLoaded } from '../support/amie';
import { almanach, drainRollups, usagePages } from '../support/reports';
import { settledJob } from '../support/budget-entries';
import { createPriceList } from '../support/pricing';
import { ADMIN_TOKEN, APP_START_TIMEOUT_MS, TestApp } from '../support/test-app';

/**
 * What every answer of `GET /reports/usage` must hold whatever it groups
 * (reports.md §3.1), checked over many shapes of one history rather than
 * value by value: the totals are the sums of the lines of every page (by
 * meter, and the cost when every line is priced); no two lines share a sort
 * key; a line of `group_by=site` is what the same report filtered to that
 * site answers; adjustment lines of different corrected months posted in
 * one bucket stay apart. The history has usage at three sites (the cloud
 * and two AMIE sites, one project at both), closed months with late data
 * posted in the current month, and a price list, so that a line merged
 * across sites or months, split on a column not grouped, or totals taken
 * over part of the result show.
 */

type Row = Record<string, any>;
const currentMonth = () => new Date().toISOString().slice(0, 7);
const currentYear = () => currentMonth().slice(0, 4);

describe('usage report lines and totals agree in every shape (reports.md §3.1)', () => {
  let t: TestApp;
  let reader: string;

  beforeAll(async () => {
    t = await startUsageApp({ REPORT_TIME_ZONE: 'UTC', CLOUD_SITE: 'cloud' });
    await t.reset();
    reader = await t.token('reader');
    await seed();
  }, APP_START_TIMEOUT_MS + 120_000);
  afterAll(async () => {
    await t?.close();
  });

  const usage = async (query: string): Promise<Row> => (await t.http.get(`/reports/usage?${query}`).set('X-Auth-Token', reader).expect(200)).body;

  async function close(period: string): Promise<void> {
    const res = await t.http.post(`/admin/reports/periods/${period}/close`).set('X-Auth-Token', ADMIN_TOKEN).expect(202);
    expect((await settledJob(t, ADMIN_TOKEN, res.body.id)).state).toBe('succeeded');
  }

  /**
   * p1: an instance (flavor a) 2025-03-01 … 2025-04-20 and AMIE compute at
   * hpc-a and hpc-b (same resource) in March and April; p2: a 100 GB ssd
   * volume 2025-03-05 … 2025-04-15. March and April closed, then one late
   * instance-day for p1 in March and two in April: two adjustment lines of
   * the same project, meter and key, posted in the current month.
   */
  async function seed(): Promise<void> {
    const service = await t.token('service');
    const a = almanach(t, service);
    await t.http.post('/v1/volume_type').set('X-Auth-Token', service).send({ type_id: 'ssd', type_name: 'ssd' }).expect(201);
    await a.createInstance('p1', 'i1', '2025-03-01T00:00:00Z', 'a');
    await a.deleteInstance('i1', '2025-04-20T00:00:00Z');
    await a.createVolume('p2', 'v1', '2025-03-05T00:00:00Z', 100, 'ssd');
    await a.deleteVolume('v1', '2025-04-15T00:00:00Z');
    const hpcA = await createSite(t, 'hpc-a');
    const hpcB = await createSite(t, 'hpc-b');
    const job = (id: string, day: string, hours: number, charge: string) =>
      compute(id, { LocalProjectID: 'p1', SubmitTime: `${day}T08:00:00Z`, StartTime: `${day}T09:00:00Z`, EndTime: `${day}T${String(9 + hours).padStart(2, '0')}:00:00Z`, Charge: charge });
    await t.http.post('/amie/usage').set(hpcA.headers).send({ UsageType: 'Compute', Records: [job('a-1', '2025-03-12', 2, '7.25'), job('a-2', '2025-04-02', 1, '1.5')] }).expect(200);
    await t.http.post('/amie/usage').set(hpcB.headers).send({ UsageType: 'Compute', Records: [job('b-1', '2025-03-12', 3, '2.5'), job('b-2', '2025-04-03', 4, '4.125')] }).expect(200);
    await waitLoaded(t);
    await createPriceList(
      t,
      {
        name: 'eur',
        currency: 'EUR',
        items: [
          { meter: 'instance.time', key: 'a', unit_price: '0.10', price_unit: 'hour', valid_from: '2025-01-01' },
          { meter: 'volume.size', key: 'ssd', unit_price: '0.0003', price_unit: 'hour', valid_from: '2025-01-01' },
          { meter: 'amie.charge', key: 'cluster-a', subkey: 'compute', unit_price: '0.75', price_unit: 'unit', valid_from: '2025-01-01' },
          { meter: 'amie.node_time', key: 'cluster-a', subkey: 'compute', unit_price: '0.02', price_unit: 'hour', valid_from: '2025-01-01' },
          { meter: 'amie.core_time', key: 'cluster-a', subkey: 'compute', unit_price: '0.01', price_unit: 'hour', valid_from: '2025-01-01' },
        ],
      },
      { settle: true },
    );
    await drainRollups(t);
    await close('2025-03');
    await close('2025-04');
    await a.createInstance('p1', 'late-mar', '2025-03-10T00:00:00Z', 'a');
    await a.deleteInstance('late-mar', '2025-03-11T00:00:00Z');
    await a.createInstance('p1', 'late-apr', '2025-04-10T00:00:00Z', 'a');
    await a.deleteInstance('late-apr', '2025-04-12T00:00:00Z');
    await drainRollups(t);
  }

  /** Every line of the report, page by page (`limit` lines a page); the totals of every page are the same. */
  async function allLines(query: string, limit: number): Promise<{ rows: Row[]; totals: Row }> {
    const pages = await usagePages(t, reader, query, limit);
    for (const page of pages) expect(page.totals).toEqual(pages[0].totals);
    return { rows: pages.flatMap((page) => page.rows), totals: pages[0].totals };
  }

  const sortKey = (r: Row) => JSON.stringify([r.period_start, r.project_id, r.site, r.source, r.key, r.subkey, r.meter, r.line_type, r.applies_to_period]);
  const sumBy = (rows: Row[], field: string, key: (r: Row) => string) => {
    const sums = new Map<string, Decimal>();
    for (const r of rows) sums.set(key(r), (sums.get(key(r)) ?? new Decimal(0)).plus(r[field]));
    return sums;
  };

  const GROUPINGS = ['', 'site', 'project_id', 'key,subkey', 'project_id,site,key,subkey', 'site,subkey'];
  const WINDOWS = ['period=2025', `period=${currentYear()}`, 'start=2025-03-10T06:00:00Z&end=2025-04-12T18:30:00Z'];
  const SHAPES = GROUPINGS.flatMap((g) => WINDOWS.flatMap((w) => ['total', 'month', 'day'].map((gran) => `${w}&group_by=${g}&granularity=${gran}`)));

  it('the totals are the sums of the lines of all pages, and no two lines share a sort key', async () => {
    let checked = 0;
    for (const shape of SHAPES) {
      for (const currency of ['', '&currency=EUR']) {
        const { rows, totals } = await allLines(`${shape}${currency}`, 25);
        const keys = rows.map(sortKey);
        expect({ shape, duplicates: keys.filter((k, i) => keys.indexOf(k) !== i) }).toEqual({ shape, duplicates: [] });
        // Compared as numbers (decimal.js), not as text: a total is written with the digits of its meter's rule.
        const byMeter = [...sumBy(rows, 'quantity', (r) => r.meter).entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([meter, q]) => [meter, q.toString()]);
        expect({ shape, by_meter: totals.by_meter.map((m: Row) => [m.meter, new Decimal(m.quantity).toString()]) }).toEqual({ shape, by_meter: byMeter });
        if (currency) {
          const priced = rows.every((r) => r.priced === true);
          expect({ shape, cost_complete: totals.cost_complete }).toEqual({ shape, cost_complete: priced });
          if (priced && rows.length > 0) expect({ shape, cost: totals.cost }).toEqual({ shape, cost: sumBy(rows, 'cost', () => '').get('')!.toFixed(6) });
        }
        checked += rows.length;
      }
    }
    // The history gives lines in most shapes (the current year holds only the adjustments).
    expect(checked).toBeGreaterThan(500);
  }, 300_000);

  it('every line of group_by=site is the report filtered to that site', async () => {
    for (const window of WINDOWS) {
      const { rows } = await allLines(`${window}&group_by=site`, 1000);
      const sites = [...new Set(rows.map((r) => r.site))].sort();
      if (window === 'period=2025') expect(sites).toEqual(['cloud', 'hpc-a', 'hpc-b']);
      for (const site of sites) {
        const alone = await allLines(`${window}&group_by=&site=${site}`, 1000);
        const strip = (r: Row) => ({ meter: r.meter, line_type: r.line_type, applies_to_period: r.applies_to_period, quantity: r.quantity });
        expect({ window, site, rows: rows.filter((r) => r.site === site).map(strip) }).toEqual({ window, site, rows: alone.rows.map(strip) });
      }
    }
  }, 120_000);

  it('warns of an unsized flavor only when the answer holds it (filters apply to the warning too)', async () => {
    const unsized = (body: Row) => body.warnings.filter((w: Row) => w.code === 'unsized').map((w: Row) => w.key);
    expect(unsized(await usage('period=2025&group_by='))).toEqual(['a']);
    expect(unsized(await usage('period=2025&group_by=&flavor=a'))).toEqual(['a']);
    for (const filter of ['meter=volume.size', 'source=amie', 'flavor=b', 'volume_type=ssd', 'resource=cluster-a', 'record_type=compute']) {
      expect({ filter, unsized: unsized(await usage(`period=2025&group_by=&${filter}`)) }).toEqual({ filter, unsized: [] });
    }
  });

  it('adjustment lines of two corrected months posted in the same bucket stay two lines', async () => {
    const { rows } = await allLines(`period=${currentYear()}&granularity=month&group_by=project_id,key`, 1000);
    const adjustments = rows.filter((r) => r.line_type === 'adjustment' && r.meter === 'instance.time');
    expect(adjustments.map((r) => [r.period, r.project_id, r.key, r.applies_to_period, r.quantity])).toEqual([
      [currentMonth(), 'p1', 'a', '2025-03', '86400.000000'],
      [currentMonth(), 'p1', 'a', '2025-04', '172800.000000'],
    ]);
  });
});
