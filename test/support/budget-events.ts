import { INestApplicationContext } from '@nestjs/common';
import { EntryKind, BudgetLedgerService, LockedBudget } from '../../src/reports/budgets/ledger/budget-ledger.service';
import { ADMIN_TOKEN, TestApp } from './test-app';

/**
 * Posts one entry to a budget through BudgetLedgerService.post under its row
 * lock, as every budget writer does. The event suites post this way because
 * the routes that post (manual entries, holds, AMIE debits, accruals) are
 * other features' and are tested there.
 */
export async function postEntry(app: INestApplicationContext, budgetId: string, kind: EntryKind, amount: string): Promise<void> {
  const ledger = app.get(BudgetLedgerService, { strict: false });
  await ledger.transaction(async (m) => {
    const budget = (await ledger.lock(m, budgetId)) as LockedBudget;
    await ledger.post(m, budget, [{ kind, amount, at: new Date(), actor: 'test', reason: kind.startsWith('manual') ? 'test' : null }]);
  });
}

/**
 * A manual entry through `POST /admin/reports/budgets/{project_id}/entries`
 * (reports.md 6.5) as admin, at now: `amount` unsigned, the sign comes from
 * `kind`. Answers the request (the caller expects its status).
 */
export function manualEntry(t: TestApp, projectId: string, kind: 'manual_grant' | 'manual_credit' | 'manual_debit', amount: string, reason = 'test') {
  return t.http.post(`/admin/reports/budgets/${encodeURIComponent(projectId)}/entries`).set('X-Auth-Token', ADMIN_TOKEN).send({ kind, amount, reason });
}

/** `GET /reports/events` with `query`, as `token` (admin by default); the body. */
export async function feed(t: TestApp, query = '', token = ADMIN_TOKEN): Promise<{ events: Record<string, any>[]; next_after: string }> {
  return (await t.http.get(`/reports/events${query ? `?${query}` : ''}`).set('X-Auth-Token', token).expect(200)).body;
}
