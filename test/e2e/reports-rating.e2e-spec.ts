import { Exact } from '../../src/reports/decimal';
import { RatingEngine } from '../../src/reports/rating/engine/rating-engine.service';
import { createPriceList } from '../support/pricing';
import { almanach, drainRollups } from '../support/reports';
import { TestApp, useTestApp } from '../support/test-app';

type Row = Record<string, unknown>;

function reader(t: TestApp, token: string) {
  return (query: string) => t.http.get(`/reports/usage?${query}`).set('X-Auth-Token', token);
}

async function putFlavor(t: TestApp, admin: string, name: string, vcpus: number, aliases: string[] = []) {
  await t.http
    .put(`/admin/reports/flavors/${name}`)
    .set('X-Auth-Token', admin)
    .set('Content-Type', 'application/json')
    .send({ vcpus, ram_mb: 1024, disk_gb: 10, aliases })
    .expect((res) => expect([200, 201]).toContain(res.status));
}

const NO_EXPONENT = /\d[eE][+-]?\d/;

describe('rating: cost in GET /reports/usage (reports.md §3.1, §4.5, §13 item 9)', () => {
  const t = useTestApp({ REPORT_TIME_ZONE: 'UTC' });
  let get: ReturnType<typeof reader>;
  let service: string;
  let admin: string;
  beforeEach(async () => {
    get = reader(t, await t.token('reader', { name: 'billing' }));
    service = await t.token('service');
    admin = await t.token('admin', { name: 'ops' });
  });

  it('report_round_half_even and report_rated_cost round the exact quotient half to even (PostgreSQL round() goes away from zero)', async () => {
    const cases: [string, string][] = [
      ['0.0000005', '0.000000'],
      ['0.0000015', '0.000002'],
      ['0.0000025', '0.000002'],
      ['-0.0000025', '-0.000002'],
      ['-0.0000035', '-0.000004'],
      ['1.2345675', '1.234568'],
      ['0.30000000001', '0.300000'],
      ['0.1234565000001', '0.123457'],
      ['7', '7.000000'],
    ];
    for (const [x, want] of cases) {
      const [row] = await t.runtime.dataSource.query(`SELECT report_round_half_even($1::numeric, 6)::text AS r, round($1::numeric, 6)::text AS pg`, [x]);
      expect([x, row.r]).toEqual([x, want]);
    }
    // round() itself would give 0.000003 for the third case: the function is needed.
    const [pg] = await t.runtime.dataSource.query(`SELECT round(0.0000025, 6)::text AS r`);
    expect(pg.r).toBe('0.000003');
    // Costs: 1 s at 0.0018/h = 0.0000005 → 0.000000; 3 s → 0.0000015 → 0.000002; 1/3 of a unit repeats and rounds down; exact halves of 'unit' prices.
    const costs: [string, string, string, string][] = [
      ['0.0018', '1', 'hour', '0.000000'],
      ['0.0018', '3', 'hour', '0.000002'],
      ['1', '1200', 'hour', '0.333333'],
      ['2', '1200', 'hour', '0.666667'],
      ['0.0000005', '1', 'unit', '0.000000'],
      ['0.0000005', '3', 'unit', '0.000002'],
      ['0.1', '3600', 'hour', '0.100000'],
    ];
    for (const [price, quantity, unit, want] of costs) {
      const [row] = await t.runtime.dataSource.query(`SELECT report_rated_cost($1::numeric, $2::numeric, $3)::text AS c`, [price, quantity, unit]);
      expect([price, quantity, unit, row.c]).toEqual([price, quantity, unit, want]);
    }
  });

  it('§13.9: 0.1 and 0.2 per hour on two flavors for one hour each give 0.300000; the month equals the sum of its days; no exponent', async () => {
    await createPriceList(t, {
      name: 'EUR default',
      currency: 'EUR',
      items: [
        { meter: 'instance.time', key: 'f1', unit_price: '0.1', price_unit: 'hour', valid_from: '2025-01-01' },
        { meter: 'instance.time', key: 'f2', unit_price: '0.2', price_unit: 'hour', valid_from: '2025-01-01' },
      ],
    });
    const a = almanach(t, service);
    await a.createInstance('p1', 'i1', '2025-03-05T10:00:00Z', 'f1');
    await a.deleteInstance('i1', '2025-03-05T11:00:00Z');
    await a.createInstance('p1', 'i2', '2025-03-06T10:00:00Z', 'f2');
    await a.deleteInstance('i2', '2025-03-06T11:00:00Z');
    await drainRollups(t);

    const month = await get('period=2025-03&currency=EUR&group_by=project_id').expect(200);
    expect(month.body.currency).toBe('EUR');
    expect(month.body.rows).toEqual([
      expect.objectContaining({ meter: 'instance.time', quantity: '7200.000000', cost: '0.300000', priced: true, unit_price: null, price_unit: null }),
    ]);
    expect(month.body.totals.cost).toBe('0.300000');
    expect(month.body.totals.cost_complete).toBe(true);
    expect(month.body.warnings).toEqual([expect.objectContaining({ code: 'unsized' }), expect.objectContaining({ code: 'unsized' })]);

    const days = await get('period=2025-03&currency=EUR&group_by=key&granularity=day').expect(200);
    expect(days.body.rows.map((r: Row) => [r.period, r.key, r.cost, r.unit_price, r.price_unit])).toEqual([
      ['2025-03-05', 'f1', '0.100000', '0.1', 'hour'],
      ['2025-03-06', 'f2', '0.200000', '0.2', 'hour'],
    ]);
    const sum = days.body.rows.reduce((acc: Exact, r: Row) => acc.plus(r.cost as string), new Exact(0));
    expect(sum.toFixed(6)).toBe(month.body.totals.cost);
    for (const body of [month.text, days.text]) expect(body).not.toMatch(NO_EXPONENT);
  });

  it('rounds half-even once per rated cell: a month of daily 0.0000005 costs is the sum of the rounded days, not the rounded sum', async () => {
    // 0.0018 per hour for one second = 0.0000005 exactly: half-even gives 0.000000; 3 s gives 0.0000015 → 0.000002.
    await createPriceList(t, {
      name: 'EUR tiny',
      currency: 'EUR',
      items: [
        { meter: 'instance.time', key: 'tiny', unit_price: '0.0018', price_unit: 'hour', valid_from: '2025-01-01' },
        { meter: 'volume.size', key: 'ssd', unit_price: '0.0018', price_unit: 'hour', valid_from: '2025-01-01' },
      ],
    });
    const a = almanach(t, service);
    await a.createInstance('p1', 'i1', '2025-03-01T10:00:00Z', 'tiny');
    await a.deleteInstance('i1', '2025-03-01T10:00:01Z');
    await a.createInstance('p1', 'i2', '2025-03-02T10:00:00Z', 'tiny');
    await a.deleteInstance('i2', '2025-03-02T10:00:01Z');
    await a.createInstance('p1', 'i3', '2025-03-03T10:00:00Z', 'tiny');
    await a.deleteInstance('i3', '2025-03-03T10:00:03Z');
    // 5 GB for one second: 0.0018 × 5 ÷ 3600 = 0.0000025 → 0.000002 (2 is even).
    await t.http.post('/v1/volume_type').set('X-Auth-Token', service).send({ type_id: 'ssd', type_name: 'ssd' }).expect(201);
    await a.createVolume('p1', 'v1', '2025-03-04T10:00:00Z', 5, 'ssd');
    await a.deleteVolume('v1', '2025-03-04T10:00:01Z');
    await drainRollups(t);

    const days = await get('period=2025-03&currency=EUR&group_by=key&granularity=day').expect(200);
    expect(days.body.rows.map((r: Row) => [r.period, r.meter, r.cost])).toEqual([
      ['2025-03-01', 'instance.time', '0.000000'],
      ['2025-03-02', 'instance.time', '0.000000'],
      ['2025-03-03', 'instance.time', '0.000002'],
      ['2025-03-04', 'volume.size', '0.000002'],
    ]);
    const month = await get('period=2025-03&currency=EUR&group_by=key').expect(200);
    // 5 s at 0.0018/h would round to 0.000003 as one figure; the sum of the rated days is 0.000002.
    expect(month.body.rows.map((r: Row) => [r.meter, r.quantity, r.cost])).toEqual([
      ['instance.time', '5.000000', '0.000002'],
      ['volume.size', '5.000000', '0.000002'],
    ]);
    expect(month.body.totals.cost).toBe('0.000004');
    // The fleet answer (site-day cells) says the same.
    const fleet = await get('period=2025-03&currency=EUR&group_by=meter').expect(200);
    expect(fleet.body.totals.cost).toBe('0.000004');
  });

  it('item precedence (§4.5): exact key and subkey, exact key and *, * and exact subkey, * and *; aliases match the catalogue name; derived meters are rated', async () => {
    await putFlavor(t, admin, 'm1.small', 2, ['uuid-small']);
    await createPriceList(t, {
      name: 'EUR default',
      currency: 'EUR',
      items: [
        { meter: 'instance.time', key: '*', unit_price: '1', price_unit: 'hour', valid_from: '2025-01-01' },
        { meter: 'instance.time', key: 'm1.small', unit_price: '3', price_unit: 'hour', valid_from: '2025-01-01' },
        { meter: 'instance.vcpu', key: '*', unit_price: '0.5', price_unit: 'hour', valid_from: '2025-01-01' },
        { meter: 'amie.charge', key: 'cluster', subkey: 'compute', unit_price: '10', price_unit: 'unit', valid_from: '2025-01-01' },
        { meter: 'amie.charge', key: 'cluster', subkey: '*', unit_price: '20', price_unit: 'unit', valid_from: '2025-01-01' },
        { meter: 'amie.charge', key: '*', subkey: 'storage', unit_price: '30', price_unit: 'unit', valid_from: '2025-01-01' },
        { meter: 'amie.charge', key: '*', subkey: '*', unit_price: '40', price_unit: 'unit', valid_from: '2025-01-01' },
      ],
    });
    const a = almanach(t, service);
    // The alias is stored; it is priced (and reported) as m1.small.
    await a.createInstance('p1', 'i1', '2025-03-05T10:00:00Z', 'uuid-small');
    await a.deleteInstance('i1', '2025-03-05T12:00:00Z');
    await a.createInstance('p1', 'i2', '2025-03-05T10:00:00Z', 'other');
    await a.deleteInstance('i2', '2025-03-05T11:00:00Z');
    await drainRollups(t);
    const res = await get('period=2025-03&currency=EUR&meter=instance.time,instance.vcpu&group_by=key').expect(200);
    expect(res.body.rows.map((r: Row) => [r.meter, r.key, r.unit_price, r.cost, r.priced])).toEqual([
      ['instance.time', 'm1.small', '3', '6.000000', true],
      ['instance.vcpu', 'm1.small', '0.5', '2.000000', true],
      ['instance.time', 'other', '1', '1.000000', true],
    ]);
    expect(res.body.totals).toMatchObject({ cost: '9.000000', cost_complete: true });

    // AMIE precedence: usage day cells written by hand, rated by the engine (the drain's own call).
    await t.runtime.dataSource.query(
      `INSERT INTO report_usage_day_cell (project_id, site, day, meter, key, subkey, quantity, items, summed)
       VALUES ('p2', 'hpc', '2025-03-07', 'amie.charge', 'cluster', 'compute', 1, 1, 1), ('p2', 'hpc', '2025-03-07', 'amie.charge', 'cluster', 'storage', 1, 1, 1),
              ('p2', 'hpc', '2025-03-07', 'amie.charge', 'other', 'storage', 1, 1, 1), ('p2', 'hpc', '2025-03-07', 'amie.charge', 'other', 'compute', 1, 1, 1)`,
    );
    // A drain would recompute the day from raw (no record: the cells would vanish), so the engine rates the stored cells directly.
    await t.runtime.dataSource.transaction((tx) => t.app.get(RatingEngine).rateKeys([{ project_id: 'p2', site: 'hpc', day: '2025-03-07' }], 'incremental', tx));
    const rated: { key: string; subkey: string; unit_price: string }[] = await t.runtime.dataSource.query(
      `SELECT key, subkey, unit_price::text FROM report_rated_day_cell WHERE project_id = 'p2' ORDER BY key, subkey`,
    );
    expect(rated).toEqual([
      { key: 'cluster', subkey: 'compute', unit_price: '10' },
      { key: 'cluster', subkey: 'storage', unit_price: '20' },
      { key: 'other', subkey: 'compute', unit_price: '40' },
      { key: 'other', subkey: 'storage', unit_price: '30' },
    ]);
  });

  it('usage no item covers is unpriced, never free: cost null, priced false, a warning, totals.cost sums the priced rows only', async () => {
    await createPriceList(t, {
      name: 'EUR default',
      currency: 'EUR',
      items: [{ meter: 'instance.time', key: 'priced', unit_price: '2', price_unit: 'hour', valid_from: '2025-03-10' }],
    });
    const a = almanach(t, service);
    await a.createInstance('p1', 'i1', '2025-03-09T12:00:00Z', 'priced');
    await a.deleteInstance('i1', '2025-03-10T12:00:00Z');
    await a.createInstance('p1', 'i2', '2025-03-11T00:00:00Z', 'free');
    await a.deleteInstance('i2', '2025-03-11T01:00:00Z');
    await drainRollups(t);
    const res = await get('period=2025-03&currency=EUR&group_by=key').expect(200);
    // 'priced' runs 12 h on the 9th (before its price) and 12 h on the 10th: partly priced → unpriced row.
    expect(res.body.rows.map((r: Row) => [r.key, r.cost, r.priced])).toEqual([
      ['free', null, false],
      ['priced', null, false],
    ]);
    // No row is wholly priced: the priced part is empty (null, not a zero that reads as free).
    expect(res.body.totals).toMatchObject({ cost: null, cost_complete: false });
    expect(res.body.warnings.filter((w: Row) => w.code === 'unpriced')).toEqual([
      { code: 'unpriced', meter: 'instance.time', key: 'free', message: expect.stringContaining('EUR') },
      { code: 'unpriced', meter: 'instance.time', key: 'priced', message: expect.stringContaining('EUR') },
    ]);
    const days = await get('start=2025-03-10&end=2025-03-11&currency=EUR&group_by=key').expect(200);
    expect(days.body.rows.map((r: Row) => [r.key, r.cost, r.priced, r.unit_price])).toEqual([['priced', '24.000000', true, '2']]);
    expect(days.body.totals).toMatchObject({ cost: '24.000000', cost_complete: true });
    expect(days.body.warnings.filter((w: Row) => w.code === 'unpriced')).toEqual([]);
  });

  it('currency: 400 when no price list exists for it; without a currency every cost field is null', async () => {
    await createPriceList(t, { name: 'SU default', currency: 'SU', items: [] });
    const bad = await get('period=2025-03&currency=EUR').expect(400);
    expect(bad.body.error).toBe('currency: no price list for EUR');
    const a = almanach(t, service);
    await a.createInstance('p1', 'i1', '2025-03-05T10:00:00Z', 'f1');
    await a.deleteInstance('i1', '2025-03-05T11:00:00Z');
    await drainRollups(t);
    const none = await get('period=2025-03').expect(200);
    expect(none.body.currency).toBeNull();
    expect(none.body.rows[0]).toMatchObject({ unit_price: null, price_unit: null, cost: null, priced: null });
    expect(none.body.totals).toMatchObject({ cost: null, cost_complete: null });
    const su = await get('period=2025-03&currency=SU').expect(200);
    expect(su.body.rows[0]).toMatchObject({ cost: null, priced: false });
  });

  it('fragments: a window cutting days and today are rated at read time by the same formula; CSV carries the cost columns', async () => {
    await createPriceList(t, {
      name: 'EUR default',
      currency: 'EUR',
      items: [{ meter: 'instance.time', key: '*', unit_price: '3.6', price_unit: 'hour', valid_from: '2020-01-01' }],
    });
    const a = almanach(t, service);
    await a.createInstance('p1', 'i1', '2025-03-05T00:00:00Z', 'f1');
    await a.deleteInstance('i1', '2025-03-07T00:00:00Z');
    await drainRollups(t);
    // 3.6 per hour = 0.001 per second: [03-05T12:00, 03-06T06:00) = 64,800 s = 64.800000, as two fragment cells and no day cell.
    const cut = await get('start=2025-03-05T12:00:00Z&end=2025-03-06T06:00:00Z&currency=EUR&group_by=key').expect(200);
    expect(cut.body.rows.map((r: Row) => [r.quantity, r.cost, r.unit_price])).toEqual([['64800.000000', '64.800000', '3.6']]);
    const csv = await t.http.get('/reports/usage?start=2025-03-05T12:00:00Z&end=2025-03-06T06:00:00Z&currency=EUR&group_by=key&format=csv').set('X-Auth-Token', service).expect(200);
    const lines = csv.text.trim().split('\r\n');
    expect(lines[0].endsWith('currency,unit_price,price_unit,cost,priced')).toBe(true);
    expect(lines[1].endsWith(',EUR,3.6,hour,64.800000,true')).toBe(true);

    // Today: an instance running since the start of today is rated from the today cell at as_of.
    const today = new Date().toISOString().slice(0, 10);
    await a.createInstance('p2', 'i2', `${today}T00:00:00Z`, 'f1');
    await drainRollups(t);
    const live = await get(`period=${today}&currency=EUR&project_id=p2`).expect(200);
    const row = live.body.rows[0];
    expect(row.priced).toBe(true);
    expect(row.cost).toBe(new Exact(row.quantity).times('0.001').toDecimalPlaces(6, Exact.ROUND_HALF_EVEN).toFixed(6));
  });
});
