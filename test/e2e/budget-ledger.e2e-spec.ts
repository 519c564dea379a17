import { DataSource } from 'typeorm';
import { BalanceListener, BudgetLedgerService, LockedBudget } from '../../src/reports/budgets/ledger/budget-ledger.service';
import { BudgetPolicyService } from '../../src/reports/budgets/policy/budget-policy.service';
import { seedBudget } from '../support/budgets';
import { APP_START_TIMEOUT_MS, startTestApp, TestApp } from '../support/test-app';

/**
 * The ledger core of budgets (reports.md 6.2, 6.3, I6): the one primitive
 * every budget writer posts through. Its routes are tested by the budget
 * suites; this holds the primitive itself to the contract on a real database.
 */
describe('budget ledger (6.2, 6.3)', () => {
  let t: TestApp;
  let ledger: BudgetLedgerService;
  let db: DataSource;

  beforeAll(async () => {
    t = await startTestApp();
    ledger = t.app.get(BudgetLedgerService, { strict: false });
    db = t.app.get(DataSource);
  }, APP_START_TIMEOUT_MS);

  afterAll(async () => {
    await t?.close();
  });

  beforeEach(async () => {
    await t.reset();
  });

  it('moves granted, consumed and held by the sums of the entries, exactly, in one transaction', async () => {
    const { id } = await seedBudget(t.app, 'p-led', '1000');
    const posted = await ledger.transaction(async (m) => {
      const b = (await ledger.lock(m, id)) as LockedBudget;
      return ledger.post(m, b, [
        { kind: 'amie_debit', amount: '-0.1', at: '2025-01-02T00:00:00Z', actor: 'system', ref: 'amie:x' },
        { kind: 'amie_debit', amount: '-0.2', at: '2025-01-02T00:00:00Z', actor: 'system', ref: 'amie:y' },
        { kind: 'hold', amount: '-10', at: '2025-01-02T00:00:00Z', actor: 'svc', holdId: 'hold_1', ref: 'hold:hold_1' },
        { kind: 'manual_grant', amount: '5.000001', at: '2025-01-02T00:00:00Z', actor: 'ops', reason: 'top-up' },
      ]);
    });
    expect(posted.budget).toMatchObject({ granted: '1005.000001', consumed: '0.300000', held: '10.000000' });
    expect(posted.entries.map((e) => [e.kind, e.amount])).toEqual([
      ['amie_debit', '-0.100000'],
      ['amie_debit', '-0.200000'],
      ['hold', '-10.000000'],
      ['manual_grant', '5.000001'],
    ]);
    expect(posted.entries[0]).toMatchObject({ project_id: 'p-led', budget_id: id, at: '2025-01-02T00:00:00.000Z', actor: 'system', reason: null });
    expect(await ledger.verifyBalance(db, id)).toEqual([]);
  });

  it('writes nothing when a listener refuses the change', async () => {
    const { id } = await seedBudget(t.app, 'p-roll', '100');
    const refusing: BalanceListener = {
      afterBalanceChange: async () => {
        throw new Error('refused');
      },
    };
    ledger.addListener(refusing);
    try {
      await expect(
        ledger.transaction(async (m) => ledger.post(m, (await ledger.lock(m, id)) as LockedBudget, [{ kind: 'manual_debit', amount: '-1', at: new Date(), actor: 'ops' }])),
      ).rejects.toThrow('refused');
    } finally {
      ledger.removeListener(refusing);
    }
    expect(await ledger.find(db, id)).toMatchObject({ granted: '100.000000', consumed: '0.000000' });
    const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM report_budget_entry WHERE budget_id = $1`, [id]);
    expect(n).toBe(1);
  });

  it('refuses to change or remove an entry (append-only)', async () => {
    const { id } = await seedBudget(t.app, 'p-ao', '100');
    await expect(db.query(`UPDATE report_budget_entry SET amount = 1 WHERE budget_id = $1`, [id])).rejects.toThrow(/append-only/);
    await expect(db.query(`DELETE FROM report_budget_entry WHERE budget_id = $1`, [id])).rejects.toThrow(/append-only/);
  });

  it('finds the budget whose period contains an instant, and budgets of a project never overlap', async () => {
    await seedBudget(t.app, 'p-per', '10', { start: '2025-01-01T00:00:00Z', end: '2026-01-01T00:00:00Z' });
    expect((await ledger.findAt(db, 'p-per', '2025-12-31T23:59:59.999Z'))?.periodStart).toBe('2025-01-01T00:00:00.000Z');
    expect(await ledger.findAt(db, 'p-per', '2026-01-01T00:00:00Z')).toBeUndefined();
    await expect(seedBudget(t.app, 'p-per', '10', { start: '2025-06-01T00:00:00Z', end: '2026-06-01T00:00:00Z' })).rejects.toThrow();
    await seedBudget(t.app, 'p-per', '10', { start: '2026-01-01T00:00:00Z', end: '2027-01-01T00:00:00Z' });
  });

  it('reports a balance row that disagrees with its entries', async () => {
    const { id } = await seedBudget(t.app, 'p-bad', '100');
    await db.query(`UPDATE report_budget SET consumed = 3 WHERE id = $1`, [id]);
    expect(await ledger.verifyBalance(db, id)).toEqual([{ figure: 'consumed', stored: '3.000000', summed: '0.000000' }]);
  });

  it("reads a project's policy, each part falling back to the defaults", async () => {
    const policies = t.app.get(BudgetPolicyService, { strict: false });
    await db.query(`INSERT INTO report_budget_policy (project_id, thresholds, overdraft) VALUES ('p-own', '{120,50}', NULL), ('p-od', NULL, 12.5)`);
    expect(await policies.effectiveMany(db, ['p-own', 'p-od', 'p-none'])).toEqual(
      new Map([
        ['p-own', { thresholds: [50, 120], overdraft: '0.000000' }],
        ['p-od', { thresholds: [80, 100, 120], overdraft: '12.500000' }],
        ['p-none', { thresholds: [80, 100, 120], overdraft: '0.000000' }],
      ]),
    );
  });
});
