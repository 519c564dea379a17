import { AccruedTodayService } from '../../src/reports/budgets/figures/accrued-today.service';
import { createPriceList } from '../support/pricing';
import { almanach, drainRollups } from '../support/reports';
import { APP_START_TIMEOUT_MS, startTestApp, TestApp } from '../support/test-app';

/**
 * `accrued_today` (reports.md 6.2): the SU cost of today's instance and
 * volume usage, rated at read time. Usage is written through Almanach and
 * priced through the price-list route; today's cells are drained with the
 * worker's code. Zone UTC (the tests' REPORT_TIME_ZONE).
 */
describe('budget figures: accrued_today (6.2)', () => {
  let t: TestApp;
  let service: string;
  let accrued: AccruedTodayService;

  beforeAll(async () => {
    t = await startTestApp();
    accrued = t.app.get(AccruedTodayService, { strict: false });
  }, APP_START_TIMEOUT_MS);

  afterAll(async () => {
    await t?.close();
  });

  beforeEach(async () => {
    await t.reset();
    service = await t.token('service');
  });

  const todayStart = () => {
    const d = new Date();
    return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  };

  it('is zero for every asked project when no SU price list exists', async () => {
    expect(await accrued.of(['p-a', 'p-b'])).toEqual(new Map([['p-a', '0.000000'], ['p-b', '0.000000']]));
  });

  it("sums the SU cost of today's instance and volume usage per project, and nothing of another project", async () => {
    const start = todayStart();
    // The usage below ends half a second into the day: wait for it to be past.
    const wait = start.getTime() + 2000 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const day = start.toISOString().slice(0, 10);
    await createPriceList(t, {
      name: 'su',
      currency: 'SU',
      items: [
        { meter: 'instance.time', key: 'm1.small', unit_price: '7200', price_unit: 'hour', valid_from: day },
        { meter: 'volume.size', key: 'ssd', unit_price: '3600', price_unit: 'hour', valid_from: day },
      ],
    });
    await t.http.post('/v1/volume_type').set('X-Auth-Token', service).send({ type_id: 'ssd', type_name: 'ssd' }).expect(201);
    const a = almanach(t, service);
    const at = (ms: number) => new Date(start.getTime() + ms).toISOString();
    await a.createInstance('p-a', 'i-1', at(0));
    await a.deleteInstance('i-1', at(500));
    await a.createVolume('p-a', 'v-1', at(0), 10, 'ssd');
    await a.deleteVolume('v-1', at(250));
    await a.createInstance('p-b', 'i-2', at(0));
    await a.deleteInstance('i-2', at(1000));
    await drainRollups(t);
    // 7200 SU/h = 2 SU/s, 3600 SU/(GB·h) = 1 SU/(GB·s). p-a: 0.5 s × 2 + 10 GB × 0.25 s × 1; p-b: 1 s × 2; p-c: nothing.
    expect(await accrued.of(['p-a', 'p-b', 'p-c'])).toEqual(
      new Map([
        ['p-a', '3.500000'],
        ['p-b', '2.000000'],
        ['p-c', '0.000000'],
      ]),
    );
  });

  it('rates only projects with a today cell once the day roll has run, and reads raw history for every project before it', async () => {
    const start = todayStart();
    const wait = start.getTime() + 2000 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const day = start.toISOString().slice(0, 10);
    await createPriceList(t, { name: 'su', currency: 'SU', items: [{ meter: 'instance.time', key: 'm1.small', unit_price: '7200', price_unit: 'hour', valid_from: day }] });
    const a = almanach(t, service);
    const at = (ms: number) => new Date(start.getTime() + ms).toISOString();
    await a.createInstance('p-a', 'i-1', at(0));
    await a.deleteInstance('i-1', at(500));
    await a.createInstance('p-b', 'i-2', at(0));
    await a.deleteInstance('i-2', at(1000));
    await drainRollups(t);
    const db = t.runtime.dataSource;
    // p-b's usage as if not yet drained into its today cell.
    await db.query(`DELETE FROM report_usage_today_cell WHERE project_id = 'p-b'`);
    // After the day roll today is read from the today cells alone: p-b has none, so nothing (as the report says).
    expect(await accrued.of(['p-a', 'p-b'])).toEqual(new Map([['p-a', '1.000000'], ['p-b', '0.000000']]));
    const [{ booked }] = await db.query(`SELECT booked_day::text AS booked FROM report_clock WHERE id = 1`);
    try {
      // Before the day roll the report reads today from raw history: p-b counts, cell or not.
      await db.query(`UPDATE report_clock SET booked_day = booked_day - 1 WHERE id = 1`);
      expect(await accrued.of(['p-a', 'p-b'])).toEqual(new Map([['p-a', '1.000000'], ['p-b', '2.000000']]));
    } finally {
      await db.query(`UPDATE report_clock SET booked_day = $1::date WHERE id = 1`, [booked]);
    }
  });
});
