import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Exact } from '../../decimal';
import { BudgetLedgerService } from '../ledger/budget-ledger.service';
import { BudgetPolicyService } from '../policy/budget-policy.service';
import { ArmingsRepository } from './armings.repository';
import { ThresholdService } from './threshold.service';

/** One I7 difference (reports.md 7.4, 7.5). */
export interface ThresholdMismatch {
  invariant: 'I7';
  project_id: string;
  budget_id: string | null;
  /** The budget period's first instant. */
  day: string;
  /** `duplicate`: more than one event for one (period, threshold, arming); `missing`: an armed threshold crossed with no event. */
  kind: 'duplicate' | 'missing';
  /** `threshold:<t>/arming:<n>`. */
  ref: string;
  stored: string;
  recomputed: string;
}

/**
 * Invariant I7 for the consistency check (reports.md 7.4): at most one
 * `budget.threshold_crossed` event per (budget period, threshold, arming),
 * and every armed threshold crossed by the current balance has its event.
 * "Crossed" is tested as the ledger's listener tests it, with the row's
 * consumed (6.3's consumed without accrued_today, a lower bound), so a
 * crossing found here is one the posting transaction should have emitted.
 * `repair` emits the missing ones through ThresholdService under the
 * budget's row lock (the event log is append-only: a duplicate is reported,
 * never removed).
 */
@Injectable()
export class ThresholdCheck {
  constructor(
    private readonly ledger: BudgetLedgerService,
    private readonly policies: BudgetPolicyService,
    private readonly thresholds: ThresholdService,
    private readonly armings: ArmingsRepository,
  ) {}

  /** The budgets (of `projects`, null: all) whose period meets [start, end). */
  async check(start: string, end: string, projects: string[] | null, repair: boolean, m: EntityManager): Promise<ThresholdMismatch[]> {
    const duplicates = await this.armings.duplicateCrossings(start, end, projects, m);
    const found: ThresholdMismatch[] = duplicates.map((d) => ({
      invariant: 'I7',
      project_id: d.project_id,
      budget_id: null,
      day: d.period_start,
      kind: 'duplicate',
      ref: `threshold:${d.threshold}/arming:${d.arming}`,
      stored: `${d.n} events`,
      recomputed: '1 event',
    }));
    const budgets = await this.armings.budgetsMeeting(start, end, projects, m);
    const policies = await this.policies.effectiveMany(m, [...new Set(budgets.map((b) => b.project_id))]);
    const missing: string[] = [];
    for (const b of budgets) {
      const granted = new Exact(b.granted);
      const consumed = new Exact(b.consumed);
      for (const threshold of policies.get(b.project_id)?.thresholds ?? []) {
        const crossed = granted.gt(0) && consumed.times(100).gte(granted.times(threshold));
        if (!crossed || b.open.includes(threshold)) continue;
        found.push({ invariant: 'I7', project_id: b.project_id, budget_id: b.id, day: b.period_start, kind: 'missing', ref: `threshold:${threshold}`, stored: 'no event', recomputed: 'budget.threshold_crossed' });
        if (!missing.includes(b.id)) missing.push(b.id);
      }
    }
    if (repair) {
      for (const id of missing) {
        const budget = await this.ledger.lock(m, id);
        if (budget) await this.thresholds.evaluate(m, budget, { consumed: budget.consumed, rearm: false });
      }
    }
    return found;
  }
}
