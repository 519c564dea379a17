import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Exact } from '../../decimal';
import { BudgetLedgerService, EntryKind, EntryRow } from '../ledger/budget-ledger.service';
import { BudgetPostings } from './budget-postings';
import { BudgetDebitsRepository, OutsideRow } from './budget-debits.repository';

/** A ledger entry that left a budget (its period moved) for no other budget: it goes to an earlier budget's outside_period. */
export type OutsideEntry = Pick<EntryRow, 'id' | 'kind' | 'amount' | 'ref'> & { at_exact: string };

/** Kinds whose `ref` names what the writers reconcile by (an AMIE record, a day): the outside-period row keeps that ref. */
const REF_KEYED: ReadonlySet<EntryKind> = new Set<EntryKind>(['amie_debit', 'amie_credit', 'amie_reversal', 'accrual', 'accrual_adjustment']);

/**
 * The one way `outside_period` moves (reports.md 6.2, I6): each
 * contribution is a row of `report_budget_outside` (project, ref, budget,
 * amount), planned here together with the figure it moves, both applied by
 * BudgetPostings under the budget's row lock (the figure through
 * BudgetLedgerService.addOutsidePeriod), so `outside_period` is always the
 * Σ of its rows. Used by the AMIE debits and the accruals (`plan`) and by
 * budget derivation when a shortened period leaves entries with no budget
 * (`addMoved`).
 */
@Injectable()
export class BudgetOutside {
  constructor(
    private readonly repo: BudgetDebitsRepository,
    private readonly ledger: BudgetLedgerService,
  ) {}

  /**
   * Plans an outside-period row change: rows that differ from `want` leave
   * their budget's figure and are deleted; `want` is added. Answers whether
   * anything changed.
   */
  plan(rows: OutsideRow[], want: OutsideRow | null, postings: BudgetPostings): boolean {
    const same = (row: OutsideRow) => want !== null && row.project_id === want.project_id && row.budget_id === want.budget_id && new Exact(row.amount).eq(want.amount);
    let changed = false;
    for (const row of rows) {
      if (same(row)) continue;
      changed = true;
      postings.moveOutside(row.budget_id, new Exact(row.amount).neg());
      postings.then((m) => this.repo.deleteOutside(row, m));
    }
    if (want && !rows.some(same)) {
      changed = true;
      postings.moveOutside(want.budget_id, new Exact(want.amount));
      postings.then((m) => this.repo.putOutside(want, m));
    }
    return changed;
  }

  /**
   * Budget derivation's entries that no budget period holds any more (the
   * caller has reversed them in their old budget, in this transaction): per
   * ref, their consumption (−amount) goes to the `outside_period` of the
   * project's latest budget that ended at or before their `at` — the budget
   * the AMIE debits and the accruals choose, with the row they keep, so a
   * later reconciliation finds it in place and adds nothing. An AMIE or
   * accrual entry keeps its `ref`; a manual entry is `entry:<id>`. Usage
   * before every budget counts nowhere.
   */
  async addMoved(m: EntityManager, projectId: string, entries: OutsideEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const groups = new Map<string, { at: string; consumption: Exact }>();
    for (const e of entries) {
      const ref = REF_KEYED.has(e.kind) && e.ref ? e.ref : `entry:${e.id}`;
      const group = groups.get(ref);
      groups.set(ref, { at: group?.at ?? e.at_exact, consumption: (group?.consumption ?? new Exact(0)).minus(e.amount) });
    }
    const refs = [...groups.keys()];
    const budgets = await this.repo.budgetsEndedBy(projectId, refs.map((ref) => groups.get(ref)!.at), m);
    const existing = (await this.repo.outsideOf(refs, m)).filter((row) => row.project_id === projectId);
    const postings = new BudgetPostings();
    refs.forEach((ref, i) => {
      const rows = existing.filter((row) => row.ref === ref);
      const amount = rows.reduce((sum, row) => sum.plus(row.amount), groups.get(ref)!.consumption);
      const want = budgets[i] && !amount.isZero() ? { project_id: projectId, ref, budget_id: budgets[i]!, amount: amount.toFixed(6) } : null;
      this.plan(rows, want, postings);
    });
    if (!postings.empty) await postings.apply(m, this.ledger);
  }
}
