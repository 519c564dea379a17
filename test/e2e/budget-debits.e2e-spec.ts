import { adjustment, compute, createSite, SiteCredentials, startUsageApp, storage, waitLoaded } from '../support/amie';
import { balanceOf, consistencyCheck, entriesOf } from '../support/budget-entries';
import { action, form, ROOT } from '../support/allocation-fixtures';
import { givenApprovedBudget, seedBudget, settleBudgets } from '../support/budgets';
import { createPriceList } from '../support/pricing';
import { drainRollups } from '../support/reports';
import { ADMIN_TOKEN, APP_START_TIMEOUT_MS, TestApp } from '../support/test-app';
import { AmieDebits } from '../../src/reports/budgets/debits/amie-debits.service';
import { BudgetDerivationService } from '../../src/reports/budgets/derivation/budget-derivation.service';
import { BudgetLedgerService, LockedBudget } from '../../src/reports/budgets/ledger/budget-ledger.service';
import { UsageLoaderService } from '../../src/usage/usage-loader.service';

/**
 * AMIE records debit and credit budgets (reports.md 6.2, 6.4 "AMIE link",
 * I6, §13 item 18): records go in through `POST /amie/usage` and are loaded
 * by the app's own queue consumer; the entries posted in the load's
 * transaction are read from the ledger table (the ledger route belongs to
 * the budget routes' suite).
 */
describe('budget debits from AMIE records (reports.md 6.2)', () => {
  let t: TestApp;
  let site: SiteCredentials;
  beforeAll(async () => {
    t = await startUsageApp({ REPORT_TIME_ZONE: 'UTC', CLOUD_SITE: 'cloud' });
  }, APP_START_TIMEOUT_MS);
  afterAll(async () => {
    await t?.close();
  });
  beforeEach(async () => {
    await t.reset();
    site = await createSite(t, 'hpc');
  });

  const db = () => t.runtime.dataSource;
  async function send(type: 'Compute' | 'Storage' | 'Adjustment', records: Record<string, unknown>[]) {
    const res = await t.http.post('/amie/usage').set(site.headers).send({ UsageType: type, Records: records }).expect(200);
    await waitLoaded(t);
    return res.body;
  }
  const job = (id: string, end: string, overrides: Record<string, unknown> = {}) =>
    compute(id, { LocalProjectID: 'p1', SubmitTime: '2025-03-01T08:00:00Z', StartTime: '2025-03-01T09:00:00Z', EndTime: end, ...overrides });

  it('posts amie_debit for compute, storage, debit, reservation and storage-debit, amie_credit for credit, refund and storage-credit, at rate 1 without an SU list', async () => {
    const budget = await seedBudget(t.app, 'p1', '1000');
    await send('Compute', [job('1', '2025-03-02T10:00:00Z', { Charge: '10.5' })]);
    await send('Storage', [storage('1', { LocalProjectID: 'p1', CollectionTime: '2025-03-03T00:00:00Z', Charge: '2.25' })]);
    const adjustments = ['debit', 'reservation', 'storage-debit', 'credit', 'refund', 'storage-credit'].map((type, i) =>
      adjustment(type, { AdjustmentType: type, LocalProjectID: 'p1', StartTime: `2025-03-0${4 + i}T00:00:00Z`, Charge: `${i + 1}` }),
    );
    await send('Adjustment', adjustments);
    const entries = (await entriesOf(t, 'p1')).sort((a, b) => (a.at < b.at ? -1 : 1));
    expect(entries.map((e) => [e.kind, e.amount, e.ref, e.at])).toEqual([
      ['amie_debit', '-10.500000', 'amie:hpc/compute/cluster-a/job-1', '2025-03-02T10:00:00.000Z'],
      ['amie_debit', '-2.250000', 'amie:hpc/storage/store-a/stor-1', '2025-03-03T00:00:00.000Z'],
      ['amie_debit', '-1.000000', 'amie:hpc/adjustment/cluster-a/adj-debit', '2025-03-04T00:00:00.000Z'],
      ['amie_debit', '-2.000000', 'amie:hpc/adjustment/cluster-a/adj-reservation', '2025-03-05T00:00:00.000Z'],
      ['amie_debit', '-3.000000', 'amie:hpc/adjustment/cluster-a/adj-storage-debit', '2025-03-06T00:00:00.000Z'],
      ['amie_credit', '4.000000', 'amie:hpc/adjustment/cluster-a/adj-credit', '2025-03-07T00:00:00.000Z'],
      ['amie_credit', '5.000000', 'amie:hpc/adjustment/cluster-a/adj-refund', '2025-03-08T00:00:00.000Z'],
      ['amie_credit', '6.000000', 'amie:hpc/adjustment/cluster-a/adj-storage-credit', '2025-03-09T00:00:00.000Z'],
    ]);
    expect(entries.every((e) => e.budget_id === budget.id && e.source === `${e.ref}@${e.source!.split('@')[1]}`)).toBe(true);
    // consumed = 10.5 + 2.25 + 1 + 2 + 3 − 4 − 5 − 6
    expect(await balanceOf(t, budget.id)).toEqual({ granted: '1000.000000', consumed: '3.750000', held: '0.000000', outside_period: '0.000000' });
    // Another project's records debit only that project's budget; a project without a budget posts nothing.
    await send('Compute', [job('2', '2025-03-02T11:00:00Z', { LocalProjectID: 'p2' })]);
    expect(await entriesOf(t, 'p2')).toEqual([]);
  });

  it('prices a record with the SU list item of (amie.charge, Resource, record type) on its day, the project’s own list first, half-even to 6 places', async () => {
    const budget = await seedBudget(t.app, 'p1', '1000');
    await seedBudget(t.app, 'p2', '1000');
    await createPriceList(t, {
      name: 'SU default',
      currency: 'SU',
      items: [
        { meter: 'amie.charge', key: 'cluster-a', subkey: 'compute', unit_price: '0.5', price_unit: 'unit', valid_from: '2025-01-01', valid_to: '2025-06-01' },
        { meter: 'amie.charge', key: 'cluster-a', subkey: 'compute', unit_price: '3', price_unit: 'unit', valid_from: '2025-06-01' },
        { meter: 'amie.charge', key: '*', subkey: 'storage', unit_price: '2', price_unit: 'unit', valid_from: '2025-01-01' },
      ],
    });
    await createPriceList(t, {
      name: 'SU p2',
      currency: 'SU',
      project_ids: ['p2'],
      items: [{ meter: 'amie.charge', key: '*', subkey: '*', unit_price: '10', price_unit: 'unit', valid_from: '2025-01-01' }],
    });
    await send('Compute', [
      // 3.333333 × 0.5 = 1.6666665, an exact half: half-even keeps the even 6 → 1.666666 (half away from zero would give 1.666667).
      job('1', '2025-03-02T10:00:00Z', { Charge: '3.333333' }),
      job('2', '2025-07-02T10:00:00Z', { Charge: '4' }),
      // An unpriced resource: rate 1.
      job('3', '2025-03-02T10:00:00Z', { Charge: '7', Resource: 'cluster-b' }),
      job('4', '2025-03-02T10:00:00Z', { Charge: '1.5', LocalProjectID: 'p2' }),
    ]);
    await send('Storage', [storage('1', { LocalProjectID: 'p1', CollectionTime: '2025-03-03T00:00:00Z', Charge: '2.25' })]);
    expect((await entriesOf(t, 'p1')).map((e) => [e.ref, e.amount])).toEqual([
      ['amie:hpc/compute/cluster-a/job-1', '-1.666666'],
      ['amie:hpc/compute/cluster-a/job-2', '-12.000000'],
      ['amie:hpc/compute/cluster-b/job-3', '-7.000000'],
      ['amie:hpc/storage/store-a/stor-1', '-4.500000'],
    ]);
    expect((await entriesOf(t, 'p2')).map((e) => [e.ref, e.amount])).toEqual([['amie:hpc/compute/cluster-a/job-4', '-15.000000']]);
    expect((await balanceOf(t, budget.id)).consumed).toBe('25.166666');
  });

  it('a resubmission reverses the old entry then posts the new one; a repeated load or reconciliation posts nothing; a failed resubmission leaves the old debit', async () => {
    const budget = await seedBudget(t.app, 'p1', '1000');
    await send('Compute', [job('1', '2025-03-02T10:00:00Z', { Charge: '10' })]);
    await send('Compute', [job('1', '2025-03-05T10:00:00Z', { Charge: '4' })]);
    const entries = await entriesOf(t, 'p1');
    expect(entries.map((e) => [e.kind, e.amount, e.at, e.reverses])).toEqual([
      ['amie_debit', '-10.000000', '2025-03-02T10:00:00.000Z', null],
      ['amie_reversal', '10.000000', '2025-03-02T10:00:00.000Z', entries[0].id],
      ['amie_debit', '-4.000000', '2025-03-05T10:00:00.000Z', null],
    ]);
    expect(entries[2].source).not.toBe(entries[0].source);
    expect((await balanceOf(t, budget.id)).consumed).toBe('4.000000');

    // The same batch again (a duplicate job) and the reconciliation itself: nothing more.
    const [{ id: batchId }] = await db().query(`SELECT max(id)::text AS id FROM amie_usage_batch`);
    expect(await t.app.get(UsageLoaderService).loadBatch(batchId)).toBeNull();
    const ids = [{ site: 'hpc', usage_type: 'Compute', resource: 'cluster-a', local_record_id: 'job-1' }];
    expect(await db().transaction((m) => t.app.get(AmieDebits).reconcile(ids, m))).toBe(0);

    // A resubmission that fails validation is a failed record: the loaded version keeps its debit.
    const res = await send('Compute', [job('1', '2025-03-06T10:00:00Z', { Charge: 'lots' })]);
    expect(JSON.stringify(res)).toContain('Charge');
    expect(await entriesOf(t, 'p1')).toEqual(entries);

    // Moved to another project: reversed here, debited there.
    const other = await seedBudget(t.app, 'p2', '1000');
    await send('Compute', [job('1', '2025-03-05T10:00:00Z', { Charge: '4', LocalProjectID: 'p2' })]);
    expect((await entriesOf(t, 'p1')).slice(3).map((e) => [e.kind, e.amount, e.reverses])).toEqual([['amie_reversal', '4.000000', entries[2].id]]);
    expect((await entriesOf(t, 'p2')).map((e) => [e.kind, e.amount, e.budget_id])).toEqual([['amie_debit', '-4.000000', other.id]]);
    expect((await balanceOf(t, budget.id)).consumed).toBe('0.000000');
  });

  it('a refund dated in an earlier budget period credits that period; usage outside every period goes to the earlier budget’s outside_period', async () => {
    const first = await seedBudget(t.app, 'p1', '100', { start: '2025-01-01T00:00:00.000Z', end: '2025-07-01T00:00:00.000Z' });
    const second = await seedBudget(t.app, 'p1', '100', { start: '2026-01-01T00:00:00.000Z', end: '2027-01-01T00:00:00.000Z' });
    await send('Compute', [job('1', '2025-06-30T23:00:00Z', { Charge: '30' })]);
    // The refund arrives in the second period, dated at the job's submit time (6.2): it credits the first.
    await send('Adjustment', [adjustment('r', { AdjustmentType: 'refund', LocalProjectID: 'p1', LocalRecordID: 'job-1', StartTime: '2025-06-30T20:00:00Z', Charge: '30' })]);
    expect((await entriesOf(t, 'p1')).map((e) => [e.budget_id, e.kind, e.amount])).toEqual([
      [first.id, 'amie_debit', '-30.000000'],
      [first.id, 'amie_credit', '30.000000'],
    ]);
    // After the first budget's end and before the second's start: no entry, the first budget's outside_period.
    await send('Compute', [job('2', '2025-09-01T00:00:00Z', { Charge: '7.5' }), job('3', '2024-06-01T00:00:00Z', { Charge: '99' })]);
    expect(await entriesOf(t, 'p1')).toHaveLength(2);
    expect(await balanceOf(t, first.id)).toMatchObject({ consumed: '0.000000', outside_period: '7.500000' });
    expect(await balanceOf(t, second.id)).toMatchObject({ consumed: '0.000000', outside_period: '0.000000' });
    // Resubmitted into the second period: it leaves outside_period and debits there.
    await send('Compute', [job('2', '2026-02-01T00:00:00Z', { Charge: '7.5' })]);
    expect(await balanceOf(t, first.id)).toMatchObject({ outside_period: '0.000000' });
    expect(await balanceOf(t, second.id)).toMatchObject({ consumed: '7.500000' });
  });

  describe('AMIE link (6.4, §13 item 18)', () => {
    /**
     * The hold is written here through the ledger and SQL, as the holds
     * route would: that route is another helper's (bud-holds); this suite
     * covers only the load-side settlement.
     */
    async function hold(budgetId: string, projectId: string, amount: string, localRecordId: string): Promise<string> {
      const id = `hold_${localRecordId}`;
      const ledger = t.app.get(BudgetLedgerService);
      await db().transaction(async (m) => {
        const budget = (await ledger.lock(m, budgetId)) as LockedBudget;
        await m.query(
          `INSERT INTO report_budget_hold (id, project_id, budget_id, amount, reference, request_hash, expires_at, amie_site, amie_resource, amie_local_record_id)
           VALUES ($1, $2, $3, $4, $1, 'h', now() + interval '1 day', 'hpc', 'cluster-a', $5)`,
          [id, projectId, budgetId, amount, localRecordId],
        );
        await ledger.post(m, budget, [{ kind: 'hold', amount: `-${amount}`, at: new Date(), ref: `hold:${id}`, actor: 'test', holdId: id }]);
      });
      return id;
    }

    it('a held hold naming the record is settled by its load: hold_release + hold_settle, and no amie_debit', async () => {
      const budget = await seedBudget(t.app, 'p1', '100');
      const holdId = await hold(budget.id, 'p1', '20', 'job-1');
      expect(await balanceOf(t, budget.id)).toMatchObject({ held: '20.000000', consumed: '0.000000' });
      await send('Compute', [job('1', '2025-03-02T10:00:00Z', { Charge: '15' })]);
      const entries = await entriesOf(t, 'p1');
      expect(entries.map((e) => [e.kind, e.amount, e.hold_id, e.ref])).toEqual([
        ['hold', '-20.000000', holdId, `hold:${holdId}`],
        ['hold_release', '20.000000', holdId, `hold:${holdId}`],
        ['hold_settle', '-15.000000', holdId, 'amie:hpc/compute/cluster-a/job-1'],
      ]);
      expect(entries.filter((e) => e.kind === 'amie_debit')).toEqual([]);
      expect(await balanceOf(t, budget.id)).toMatchObject({ held: '0.000000', consumed: '15.000000' });
      const [row] = await db().query(`SELECT state, settled_amount::text AS settled, resolved_at IS NOT NULL AS resolved FROM report_budget_hold WHERE id = $1`, [holdId]);
      expect(row).toEqual({ state: 'settled', settled: '15.000000', resolved: true });

      // A resubmission adjusts the settlement.
      await send('Compute', [job('1', '2025-03-02T10:00:00Z', { Charge: '12' })]);
      const after = await entriesOf(t, 'p1');
      expect(after.slice(3).map((e) => [e.kind, e.amount, e.reverses, e.hold_id])).toEqual([
        ['amie_reversal', '15.000000', entries[2].id, holdId],
        ['hold_settle', '-12.000000', null, holdId],
      ]);
      expect((await balanceOf(t, budget.id)).consumed).toBe('12.000000');
      expect((await db().query(`SELECT settled_amount::text AS s FROM report_budget_hold WHERE id = $1`, [holdId]))[0].s).toBe('12.000000');
    });

    it('a record loaded under another project debits that project as usual and leaves the hold held', async () => {
      const budget = await seedBudget(t.app, 'p1', '100');
      const other = await seedBudget(t.app, 'p2', '100');
      const holdId = await hold(budget.id, 'p1', '20', 'job-1');
      await send('Compute', [job('1', '2025-03-02T10:00:00Z', { Charge: '15', LocalProjectID: 'p2' })]);
      expect((await entriesOf(t, 'p2')).map((e) => [e.kind, e.amount])).toEqual([['amie_debit', '-15.000000']]);
      expect((await entriesOf(t, 'p1')).map((e) => e.kind)).toEqual(['hold']);
      expect((await db().query(`SELECT state FROM report_budget_hold WHERE id = $1`, [holdId]))[0].state).toBe('held');
      expect(await balanceOf(t, other.id)).toMatchObject({ consumed: '15.000000' });
    });
  });

  describe('a period shortened by its approval (6.1, 6.2)', () => {
    /** `YYYY-MM-DD` of today (UTC, the suite's REPORT_TIME_ZONE) plus `days`. */
    const day = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

    it('puts entries no period holds into outside_period once, with their rows: I6 finds nothing, reconciliation and derivation add nothing', async () => {
      const given = await givenApprovedBudget(t, 'p1', 1000, { start_date: day(-30), end_date: day(100) });
      // Job 1 is resubmitted with another end: its first version's debit and reversal stay a pair.
      await send('Compute', [job('1', `${day(-6)}T10:00:00Z`, { Charge: '10' }), job('2', `${day(-20)}T10:00:00Z`, { Charge: '3' })]);
      await send('Compute', [job('1', `${day(-5)}T10:00:00Z`, { Charge: '4' })]);
      await t.http.post('/admin/reports/budgets/p1/entries').set('X-Auth-Token', ADMIN_TOKEN).send({ kind: 'manual_debit', amount: '40', reason: 'test', at: `${day(-5)}T12:00:00Z` }).expect(201);
      expect(await balanceOf(t, given.budgetId)).toMatchObject({ consumed: '47.000000', outside_period: '0.000000' });

      // The approval now ends 10 days ago: job 1 and the manual debit lie after its end, in no budget.
      await action(t, ADMIN_TOKEN, given.allocationId, 'amend').expect(200);
      await t.http.patch(`${ROOT}/allocations/${given.allocationId}/`).set('X-Auth-Token', ADMIN_TOKEN).type('form').send(form({ end_date: day(-10) })).expect(200);
      await action(t, ADMIN_TOKEN, given.allocationId, 'approve').expect(200);
      await settleBudgets(t);

      const expected = { granted: '1000.000000', consumed: '3.000000', held: '0.000000', outside_period: '44.000000' };
      expect(await balanceOf(t, given.budgetId)).toEqual(expected);
      const [manual] = (await entriesOf(t, 'p1')).filter((e) => e.kind === 'manual_debit');
      const rows = await db().query(`SELECT project_id, ref, budget_id::text AS budget_id, amount::text AS amount FROM report_budget_outside ORDER BY ref`);
      expect(rows).toEqual([
        { project_id: 'p1', ref: 'amie:hpc/compute/cluster-a/job-1', budget_id: given.budgetId, amount: '4.000000' },
        { project_id: 'p1', ref: `entry:${manual.id}`, budget_id: given.budgetId, amount: '40.000000' },
      ]);

      await drainRollups(t);
      const window = { start: day(-40), end: day(0), project_ids: ['p1'] };
      expect((await consistencyCheck(t, window)).mismatches).toEqual([]);
      // Again: the load's reconciliation of job 1, the check's repair, a derivation of the project.
      const ids = [{ site: 'hpc', usage_type: 'Compute', resource: 'cluster-a', local_record_id: 'job-1' }];
      expect(await db().transaction((m) => t.app.get(AmieDebits).reconcile(ids, m))).toBe(0);
      expect((await consistencyCheck(t, { ...window, repair: true })).mismatch_count).toBe(0);
      await t.app.get(BudgetDerivationService).derive('p1');
      expect(await balanceOf(t, given.budgetId)).toEqual(expected);
      expect(await db().query(`SELECT ref, amount::text AS amount FROM report_budget_outside ORDER BY ref`)).toEqual(rows.map((r: { ref: string; amount: string }) => ({ ref: r.ref, amount: r.amount })));
    });
  });

  describe('consistency check (I6)', () => {
    const check = (body: Record<string, unknown>) => consistencyCheck(t, body);

    it('finds a hand-altered balance row and repairs it from the entries', async () => {
      const budget = await seedBudget(t.app, 'p1', '100');
      await send('Compute', [job('1', '2025-03-02T10:00:00Z', { Charge: '15' })]);
      expect((await check({ start: '2025-03-01', end: '2025-04-01' })).mismatch_count).toBe(0);
      await db().query(`UPDATE report_budget SET consumed = consumed + 1.5 WHERE id = $1`, [budget.id]);
      const found = await check({ start: '2025-03-01', end: '2025-04-01' });
      expect(found.mismatches).toEqual([
        expect.objectContaining({ invariant: 'I6', project_id: 'p1', entry: 'balance', budget_id: budget.id, ref: 'consumed', stored: '16.500000', recomputed: '15.000000' }),
      ]);
      expect((await check({ start: '2025-03-01', end: '2025-04-01', repair: true })).mismatch_count).toBe(1);
      expect((await balanceOf(t, budget.id)).consumed).toBe('15.000000');
      expect((await check({ start: '2025-03-01', end: '2025-04-01' })).mismatch_count).toBe(0);
    });

    it('finds a loaded record with no debit (its budget came later) and posts the missing debit', async () => {
      await send('Compute', [job('1', '2025-03-02T10:00:00Z', { Charge: '15' })]);
      // The check skips dirty keys (7.5): the rollups are drained first.
      await drainRollups(t);
      const budget = await seedBudget(t.app, 'p1', '100');
      const found = await check({ start: '2025-03-01', end: '2025-04-01', project_ids: ['p1'] });
      expect(found.mismatches).toEqual([
        expect.objectContaining({ invariant: 'I6', project_id: 'p1', entry: 'amie', ref: 'amie:hpc/compute/cluster-a/job-1', stored: 'none', recomputed: '-15.000000' }),
      ]);
      await check({ start: '2025-03-01', end: '2025-04-01', project_ids: ['p1'], repair: true });
      expect((await entriesOf(t, 'p1')).map((e) => [e.kind, e.amount])).toEqual([['amie_debit', '-15.000000']]);
      expect((await balanceOf(t, budget.id)).consumed).toBe('15.000000');
      expect((await check({ start: '2025-03-01', end: '2025-04-01', project_ids: ['p1'] })).mismatch_count).toBe(0);
    });
  });
});
