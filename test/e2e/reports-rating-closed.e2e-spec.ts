import { startUsageApp } from '../support/amie';
import { almanach, drainRollups } from '../support/reports';
import { createPriceList } from '../support/pricing';
import { ADMIN_TOKEN, APP_START_TIMEOUT_MS, TestApp } from '../support/test-app';

/**
 * §13 item 11 across rating and periods (reports.md 4.3, 4.6, 5.2, 5.3): a
 * correction of a price that rated a closed month queues one job; when it
 * succeeds the open month shows the new cost, the closed month's
 * `view=closed` is unchanged, its adjustment lines carry the difference
 * (listed against it with `lines=adjustments`, and among the lines posted in
 * the current month), `lines=all` adds up to `view=live`, and the old item
 * is `superseded`. Zone UTC; "now" is the real clock, so the posting month
 * is the current one.
 */

type Row = Record<string, any>;
const currentMonth = () => new Date().toISOString().slice(0, 7);

describe('a correction across a closed and an open month (reports.md §13 item 11)', () => {
  let t: TestApp;
  let reader: string;

  beforeAll(async () => {
    t = await startUsageApp({ REPORT_TIME_ZONE: 'UTC', CLOUD_SITE: 'cloud' });
  }, APP_START_TIMEOUT_MS);
  afterAll(async () => {
    await t?.close();
  });
  beforeEach(async () => {
    await t.reset();
    reader = await t.token('reader');
  });

  const admin = {
    get: (path: string) => t.http.get(path).set('X-Auth-Token', ADMIN_TOKEN),
    post: (path: string) => t.http.post(path).set('X-Auth-Token', ADMIN_TOKEN),
  };
  const usage = async (query: string): Promise<Row> => (await t.http.get(`/reports/usage?${query}`).set('X-Auth-Token', reader).expect(200)).body;

  async function settled(id: string, timeoutMs = 60_000): Promise<Row> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const body = (await admin.get(`/admin/reports/jobs/${id}`).expect(200)).body;
      if (['succeeded', 'failed', 'cancelled'].includes(body.state)) return body;
      if (Date.now() > deadline) throw new Error(`job ${id} still ${body.state} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The instance.time rows of a report, as (line_type, applies_to_period, quantity, cost). */
  const timeRows = (body: Row) =>
    (body.rows as Row[]).filter((r) => r.meter === 'instance.time').map((r) => ({ line_type: r.line_type, applies_to_period: r.applies_to_period, quantity: r.quantity, cost: r.cost }));

  it('February closed, March open: one job; March re-priced, February frozen, the difference in adjustment lines', async () => {
    const service = await t.token('service');
    const a = almanach(t, service);
    // One instance running all of February and March 2025.
    await a.createInstance('p1', 'i1', '2025-02-01T00:00:00Z', 'm1.a');
    await a.deleteInstance('i1', '2025-04-01T00:00:00Z');
    const list = await createPriceList(t, { name: 'eur', currency: 'EUR', items: [{ meter: 'instance.time', key: 'm1.a', unit_price: '1.00', price_unit: 'hour', valid_from: '2025-01-01' }] }, { settle: true });
    // (settle: createPriceList waits for the rerate job the list's past validity queued.)
    await drainRollups(t);
    const close = await admin.post('/admin/reports/periods/2025-02/close').expect(202);
    expect((await settled(close.body.id)).state).toBe('succeeded');

    const febBefore = await usage('period=2025-02&currency=EUR&group_by=project_id,key');
    expect(timeRows(febBefore)).toEqual([{ line_type: 'usage', applies_to_period: null, quantity: '2419200.000000', cost: '672.000000' }]);
    const marBefore = await usage('period=2025-03&currency=EUR&group_by=project_id,key');
    expect(timeRows(marBefore)).toEqual([{ line_type: 'usage', applies_to_period: null, quantity: '2678400.000000', cost: '744.000000' }]);

    // The price was a typo all along: 2.00 from the same day.
    const correction = await admin
      .post(`/admin/reports/price-lists/${list.id}/corrections`)
      .send({ reason: 'm1.a price typo', supersede: [list.items[0]], items: [{ meter: 'instance.time', key: 'm1.a', subkey: '', unit_price: '2.00', price_unit: 'hour', valid_from: '2025-01-01', valid_to: null }] })
      .expect(202);
    expect(correction.body.job).toMatchObject({ kind: 'correction' });
    expect(correction.headers.location).toBe(`/admin/reports/jobs/${correction.body.job.id}`);
    const done = await settled(correction.body.job.id);
    expect(done.state).toBe('succeeded');
    expect(done.result.adjustments_posted).toBeGreaterThan(0);
    await drainRollups(t);

    // The old item is superseded by the correction.
    const listed = (await admin.get(`/reports/price-lists/${list.id}`).expect(200)).body;
    expect(listed.items.find((i: Row) => i.id === list.items[0])).toMatchObject({ state: 'superseded', superseded_by: correction.body.correction.id });

    // March is open: its usage row carries the new cost.
    expect(timeRows(await usage('period=2025-03&currency=EUR&group_by=project_id,key'))).toEqual([
      { line_type: 'usage', applies_to_period: null, quantity: '2678400.000000', cost: '1488.000000' },
    ]);
    // February as closed: unchanged (no adjustment was posted inside February).
    expect(timeRows(await usage('period=2025-02&currency=EUR&group_by=project_id,key'))).toEqual(timeRows(febBefore));
    // February live: the new price.
    expect(timeRows(await usage('period=2025-02&currency=EUR&group_by=project_id,key&view=live'))).toEqual([
      { line_type: 'usage', applies_to_period: null, quantity: '2419200.000000', cost: '1344.000000' },
    ]);
    // What was posted against February since: the cost difference, with no change of quantity.
    expect(timeRows(await usage('period=2025-02&currency=EUR&group_by=project_id,key&lines=adjustments'))).toEqual([
      { line_type: 'adjustment', applies_to_period: '2025-02', quantity: '0.000000', cost: '672.000000' },
    ]);
    // unit_price (3.1: the price when exactly one item rated the row): the frozen row keeps the item it was
    // rated by at close, the live rows name the new one, and the adjustment row, a difference between the
    // two items, names none.
    const prices = (body: Row) => (body.rows as Row[]).filter((r) => r.meter === 'instance.time').map((r) => [r.line_type, r.unit_price, r.price_unit]);
    expect(prices(await usage('period=2025-02&currency=EUR&group_by=project_id,key'))).toEqual([['usage', '1.00', 'hour']]);
    expect(prices(await usage('period=2025-02&currency=EUR&group_by=project_id,key&view=live'))).toEqual([['usage', '2.00', 'hour']]);
    expect(prices(await usage('period=2025-02&currency=EUR&group_by=project_id,key&lines=all'))).toEqual([
      ['usage', '1.00', 'hour'],
      ['adjustment', null, null],
    ]);
    // Frozen + adjustments = live (I5).
    const all = await usage('period=2025-02&currency=EUR&group_by=project_id,key&lines=all');
    expect(all.totals.cost).toBe('1344.000000');
    // And the line is listed in the month it was posted in, saying which month it corrects.
    const now = await usage(`period=${currentMonth()}&currency=EUR&group_by=project_id,key`);
    expect(timeRows(now)).toEqual([{ line_type: 'adjustment', applies_to_period: '2025-02', quantity: '0.000000', cost: '672.000000' }]);
  });

  it('frozen rows and adjustment rows rated by one item answer its unit_price, like live rows (reports.md 3.1)', async () => {
    const service = await t.token('service');
    const a = almanach(t, service);
    await a.createInstance('p1', 'i1', '2025-02-01T00:00:00Z', 'm1.a');
    await a.deleteInstance('i1', '2025-02-03T00:00:00Z');
    await createPriceList(
      t,
      {
        name: 'eur',
        currency: 'EUR',
        items: [
          { meter: 'instance.time', key: 'm1.a', unit_price: '0.50', price_unit: 'hour', valid_from: '2025-01-01' },
          { meter: 'instance.time', key: 'm1.b', unit_price: '0.75', price_unit: 'hour', valid_from: '2025-01-01' },
        ],
      },
      { settle: true },
    );
    await drainRollups(t);
    const close = await admin.post('/admin/reports/periods/2025-02/close').expect(202);
    expect((await settled(close.body.id)).state).toBe('succeeded');
    const prices = (body: Row) => (body.rows as Row[]).filter((r) => r.meter === 'instance.time').map((r) => [r.line_type, r.key, r.quantity, r.unit_price, r.price_unit, r.cost]);
    expect(prices(await usage('period=2025-02&currency=EUR&group_by=project_id,key'))).toEqual([['usage', 'm1.a', '172800.000000', '0.50', 'hour', '24.000000']]);

    // Late data into the closed month, priced by the same items: one adjustment row per key, each naming its item.
    await a.createInstance('p1', 'i2', '2025-02-10T00:00:00Z', 'm1.a');
    await a.deleteInstance('i2', '2025-02-10T06:00:00Z');
    await a.createInstance('p1', 'i3', '2025-02-11T00:00:00Z', 'm1.b');
    await a.deleteInstance('i3', '2025-02-11T04:00:00Z');
    await drainRollups(t);
    const adjustments = await usage('period=2025-02&currency=EUR&group_by=project_id,key&lines=adjustments');
    expect(prices(adjustments)).toEqual([
      ['adjustment', 'm1.a', '21600.000000', '0.50', 'hour', '3.000000'],
      ['adjustment', 'm1.b', '14400.000000', '0.75', 'hour', '3.000000'],
    ]);
    // Grouped over both keys, two items rated the rows: no unit_price, as for live rows.
    const fleet = await usage('period=2025-02&currency=EUR&group_by=project_id&lines=adjustments');
    expect(prices(fleet)).toEqual([['adjustment', null, '36000.000000', null, null, '6.000000']]);
    expect(prices(await usage('period=2025-02&currency=EUR&group_by=project_id&view=live'))).toEqual([['usage', null, '208800.000000', null, null, '30.000000']]);
    // The CSV carries the same prices.
    const csv = await t.http.get('/reports/usage?period=2025-02&currency=EUR&group_by=project_id,key&lines=all&format=csv').set('X-Auth-Token', reader).expect(200);
    const [header, ...records] = csv.text.trim().split('\r\n').map((line) => line.split(','));
    const at = (name: string) => header.indexOf(name);
    expect(records.map((r) => [r[at('line_type')], r[at('key')], r[at('unit_price')], r[at('price_unit')]])).toEqual([
      ['usage', 'm1.a', '0.50', 'hour'],
      ['adjustment', 'm1.a', '0.50', 'hour'],
      ['adjustment', 'm1.b', '0.75', 'hour'],
    ]);
  });
});
