import { DataSource } from 'typeorm';
import { BudgetLedgerService, LockedBudget } from '../src/reports/budgets/ledger/budget-ledger.service';

/** The period a seeded budget covers unless told otherwise: wide enough to contain every "now" of a run. */
export const SEED_PERIOD = { start: '2020-01-01T00:00:00.000Z', end: '2100-01-01T00:00:00.000Z' };

/**
 * A budget for `projectId` over [start, end) granted `granted` SU, written
 * straight through the ledger (its row, then a `grant` entry at the period
 * start), in one transaction; answers its id. How an approval in force
 * makes a budget (reports.md 6.1) is the derivation's business: this is for
 * what happens to a budget once it exists. Shared by the benches and
 * test/support/budgets.ts (the build compiles bench/, not test/).
 */
export async function insertBudget(
  db: DataSource,
  ledger: BudgetLedgerService,
  projectId: string,
  granted: string,
  period: { start: string; end: string } = SEED_PERIOD,
): Promise<string> {
  return db.transaction(async (m) => {
    const [row] = (await m.query(
      `INSERT INTO "report_budget" ("project_id", "period_start", "period_end") VALUES ($1, $2, $3) RETURNING "id"::text AS "id"`,
      [projectId, period.start, period.end],
    )) as { id: string }[];
    const budget = (await ledger.lock(m, row.id)) as LockedBudget;
    await ledger.post(m, budget, [{ kind: 'grant', amount: granted, at: period.start, actor: 'system', ref: null }]);
    return row.id;
  });
}
