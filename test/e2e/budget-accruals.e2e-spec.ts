import { compute, createSite, startUsageApp, waitLoaded } from '../support/amie';
import { balanceOf, consistencyCheck, entriesOf, settledJob } from '../support/budget-entries';
import { seedBudget } from '../support/budgets';
import { createPriceList } from '../support/pricing';
import { almanach, drainRollups } from '../support/reports';
import { ADMIN_TOKEN, APP_START_TIMEOUT_MS, TestApp } from '../support/test-app';
import { ReportsLoops } from '../../src/reports/rollups/reports-loops.service';

/**
 * Accruals (reports.md 6.2, 7.2, I6): the SU cost of a project's instance
 * and volume meters on a booked day is consumed from its budget as one
 * `accrual` at the day roll and `accrual_adjustment`s when that cost
 * changes (late data through the drain, a correction's job). History goes in
 * through the Almanach routes; the day roll and the drain run with the
 * worker's own code; entries are read from the ledger table (the ledger
 * route is the budget routes' suite).
 */
describe('budget accruals of booked days (reports.md 6.2, 7.2)', () => {
  let t: TestApp;
  let service: string;
  beforeAll(async () => {
    t = await startUsageApp({ REPORT_TIME_ZONE: 'UTC', CLOUD_SITE: 'cloud' });
  }, APP_START_TIMEOUT_MS);
  afterAll(async () => {
    await t?.close();
  });
  beforeEach(async () => {
    await t.reset();
    service = await t.token('service');
  });

  const db = () => t.runtime.dataSource;
  const admin = (path: string, body: unknown) => t.http.post(path).set('X-Auth-Token', ADMIN_TOKEN).send(body as object);
  const bookedDay = async () => ((await db().query(`SELECT booked_day::text AS d FROM report_clock`)) as { d: string }[])[0].d;

  /** The SU default list, its items valid from `from` (a correction re-rates every day from there: the first test keeps it short). */
  async function suPrices(from = '2025-01-01') {
    return createPriceList(
      t,
      {
        name: 'SU default',
        currency: 'SU',
        items: [
          { meter: 'instance.time', key: 'f1', unit_price: '2', price_unit: 'hour', valid_from: from },
          { meter: 'volume.size', key: 'ssd', unit_price: '0.1', price_unit: 'hour', valid_from: from },
          // Priced in SU for reports, never accrued: AMIE reaches budgets through its own entries (6.2).
          { meter: 'amie.node_time', key: '*', subkey: '*', unit_price: '100', price_unit: 'hour', valid_from: from },
        ],
      },
      { settle: true },
    );
  }

  it('posts one accrual at the day roll, an accrual_adjustment after late data and after a price correction, and nothing on repeats', async () => {
    const budget = await seedBudget(t.app, 'p1', '1000');
    const a = almanach(t, service);
    await t.http.post('/v1/volume_type').set('X-Auth-Token', service).send({ type_id: 'ssd', type_name: 'ssd' }).expect(201);
    // The clock one day back: "yesterday" is its current day, booked at the next roll.
    await db().query(`UPDATE report_clock SET booked_day = booked_day - 1`);
    const day = await bookedDay();
    const list = await suPrices(day);
    await a.createInstance('p1', 'i1', `${day}T10:00:00Z`, 'f1');
    await a.deleteInstance('i1', `${day}T11:00:00Z`);
    await drainRollups(t);
    // The current day counts live (accrued_today), never as entries.
    expect(await entriesOf(t, 'p1')).toEqual([]);

    await t.app.get(ReportsLoops).rollDays();
    expect(await bookedDay()).not.toBe(day);
    await drainRollups(t);
    const rolled = await entriesOf(t, 'p1');
    expect(rolled.map((e) => [e.kind, e.amount, e.ref, e.at, e.budget_id])).toEqual([['accrual', '-2.000000', `day:${day}`, `${day}T00:00:00.000Z`, budget.id]]);

    // Late data on the booked day: an instance hour (2 SU) and 10 GB for an hour at 0.1 per GB-hour (1 SU).
    await a.createInstance('p1', 'i2', `${day}T12:00:00Z`, 'f1');
    await a.deleteInstance('i2', `${day}T13:00:00Z`);
    await a.createVolume('p1', 'v1', `${day}T12:00:00Z`, 10, 'ssd');
    await a.deleteVolume('v1', `${day}T13:00:00Z`);
    await drainRollups(t);
    expect((await entriesOf(t, 'p1')).slice(1).map((e) => [e.kind, e.amount, e.ref])).toEqual([['accrual_adjustment', '-3.000000', `day:${day}`]]);
    expect((await balanceOf(t, budget.id)).consumed).toBe('5.000000');

    // A correction of the instance price (2 → 3 per hour): its job re-rates the day and adjusts the accrual by −2.
    const correction = await admin(`/admin/reports/price-lists/${list.id}/corrections`, {
      reason: 'f1 price typo',
      supersede: [list.items[0]],
      items: [{ meter: 'instance.time', key: 'f1', subkey: '', unit_price: '3', price_unit: 'hour', valid_from: day, valid_to: null }],
    }).expect(202);
    expect((await settledJob(t, ADMIN_TOKEN, correction.body.job.id)).state).toBe('succeeded');
    expect((await entriesOf(t, 'p1')).slice(2).map((e) => [e.kind, e.amount])).toEqual([['accrual_adjustment', '-2.000000']]);
    expect((await balanceOf(t, budget.id)).consumed).toBe('7.000000');

    // Repeats: the key drained again, a re-rate of the day: nothing more.
    const before = await entriesOf(t, 'p1');
    await db().query(`INSERT INTO report_dirty_key (project_id, site, day) VALUES ('p1', 'cloud', $1) ON CONFLICT DO NOTHING`, [day]);
    await drainRollups(t);
    const rerate = await admin('/admin/reports/rerate', { start: day, end: await bookedDay(), currencies: ['SU'], reason: 'again' }).expect(202);
    expect((await settledJob(t, ADMIN_TOKEN, rerate.body.id)).state).toBe('succeeded');
    expect(await entriesOf(t, 'p1')).toEqual(before);
  });

  it('accrues instance and volume meters only: AMIE usage priced in SU reaches the budget through its own record entry', async () => {
    const budget = await seedBudget(t.app, 'p1', '1000');
    await suPrices();
    const site = await createSite(t, 'hpc');
    const a = almanach(t, service);
    await a.createInstance('p1', 'i1', '2025-03-05T10:00:00Z', 'f1');
    await a.deleteInstance('i1', '2025-03-05T10:30:00Z');
    await t.http
      .post('/amie/usage')
      .set(site.headers)
      .send({ UsageType: 'Compute', Records: [compute('1', { LocalProjectID: 'p1', SubmitTime: '2025-03-05T08:00:00Z', StartTime: '2025-03-05T09:00:00Z', EndTime: '2025-03-05T10:00:00Z', Charge: '5' })] })
      .expect(200);
    await waitLoaded(t);
    await drainRollups(t);
    expect((await entriesOf(t, 'p1')).map((e) => [e.kind, e.amount, e.ref])).toEqual([
      ['amie_debit', '-5.000000', 'amie:hpc/compute/cluster-a/job-1'],
      ['accrual', '-1.000000', 'day:2025-03-05'],
    ]);
    expect((await balanceOf(t, budget.id)).consumed).toBe('6.000000');
  });

  it('a booked day outside every budget period goes to the earlier budget’s outside_period; a day before every budget to none', async () => {
    const first = await seedBudget(t.app, 'p1', '100', { start: '2025-01-01T00:00:00.000Z', end: '2025-03-01T00:00:00.000Z' });
    await suPrices();
    const a = almanach(t, service);
    await a.createInstance('p1', 'i1', '2025-03-05T10:00:00Z', 'f1');
    await a.deleteInstance('i1', '2025-03-05T12:00:00Z');
    await a.createInstance('p1', 'i2', '2024-12-05T10:00:00Z', 'f1');
    await a.deleteInstance('i2', '2024-12-05T12:00:00Z');
    await drainRollups(t);
    expect(await entriesOf(t, 'p1')).toEqual([]);
    expect(await balanceOf(t, first.id)).toMatchObject({ consumed: '0.000000', outside_period: '4.000000' });
    // More usage that day moves the figure; it stays out of the ledger.
    await a.createInstance('p1', 'i3', '2025-03-05T13:00:00Z', 'f1');
    await a.deleteInstance('i3', '2025-03-05T13:30:00Z');
    await drainRollups(t);
    expect(await balanceOf(t, first.id)).toMatchObject({ consumed: '0.000000', outside_period: '5.000000' });
  });

  it('the consistency check (I6) finds a booked day with no accrual (its budget came later) and posts the missing accrual', async () => {
    await suPrices();
    const a = almanach(t, service);
    await a.createInstance('p1', 'i1', '2025-03-05T10:00:00Z', 'f1');
    await a.deleteInstance('i1', '2025-03-05T12:30:00Z');
    await drainRollups(t);
    const budget = await seedBudget(t.app, 'p1', '100');
    const check = (body: Record<string, unknown>) => consistencyCheck(t, { start: '2025-03-01', end: '2025-04-01', ...body });
    const found = await check({});
    expect(found.mismatches).toEqual([
      expect.objectContaining({ invariant: 'I6', project_id: 'p1', entry: 'accrual', day: '2025-03-05', budget_id: budget.id, ref: 'day:2025-03-05', stored: '0.000000', recomputed: '5.000000' }),
    ]);
    expect(found.mismatch_count).toBe(1);
    await check({ repair: true });
    expect((await entriesOf(t, 'p1')).map((e) => [e.kind, e.amount, e.ref])).toEqual([['accrual', '-5.000000', 'day:2025-03-05']]);
    expect((await balanceOf(t, budget.id)).consumed).toBe('5.000000');
    expect((await check({})).mismatch_count).toBe(0);
  });
});
