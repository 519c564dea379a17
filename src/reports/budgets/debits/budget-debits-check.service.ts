import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { BudgetLedgerService } from '../ledger/budget-ledger.service';
import { AmieDebits } from './amie-debits.service';
import { BudgetAccruals } from './budget-accruals.service';
import { BudgetDebitsRepository } from './budget-debits.repository';

/** One I6 difference (reports.md 7.4, 7.5). */
export interface BudgetMismatch {
  invariant: 'I6';
  project_id: string;
  /** The local day (accruals, AMIE records: the attribution day) or the budget's first instant (balance rows). */
  day: string;
  budget_id: string | null;
  /** `balance` (the row), `amie` (a record's entries) or `accrual` (a day's). */
  kind: 'balance' | 'amie' | 'accrual';
  /** The figure (balance), the record ref (`amie:…`) or the day ref (`day:…`). */
  ref: string;
  stored: string;
  recomputed: string;
}

/**
 * Invariant I6 for the consistency check (reports.md 7.4, 7.5): balance rows
 * against their entries (and outside_period against its rows), every loaded
 * AMIE record version's one live entry, every booked day's net accrual. The
 * differences are what the writers' own reconciliations would post, so
 * `repair` posts them (the missing difference, never an edit) and restores a
 * hand-altered balance row from its entries, under the budgets' row locks.
 * In the check's REPEATABLE READ snapshot a row changed since is a
 * serialization failure, and the runner re-runs the chunk.
 */
@Injectable()
export class BudgetDebitsCheck {
  constructor(
    private readonly repo: BudgetDebitsRepository,
    private readonly ledger: BudgetLedgerService,
    private readonly amie: AmieDebits,
    private readonly accruals: BudgetAccruals,
  ) {}

  /** The balance rows of the budgets (of `projects`, null: all) whose period meets [start, end). */
  async balances(start: string, end: string, projects: string[] | null, repair: boolean, m: EntityManager): Promise<BudgetMismatch[]> {
    const found = await this.repo.balanceDifferences(start, end, projects, m);
    if (repair) {
      const ids = [...new Set(found.map((d) => d.budget_id))].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
      for (const id of ids) {
        const budget = await this.ledger.lock(m, id);
        if (!budget) continue;
        await this.ledger.restoreBalance(m, budget);
        await this.repo.restoreOutside(id, m);
      }
    }
    return found.map((d) => ({ invariant: 'I6', project_id: d.project_id, day: d.period_start, budget_id: d.budget_id, kind: 'balance', ref: d.figure, stored: d.stored, recomputed: d.summed }));
  }

  /** AMIE entries and accruals of booked, clean (project, day) pairs. */
  async pairs(pairs: [string, string][], repair: boolean, m: EntityManager): Promise<BudgetMismatch[]> {
    if (pairs.length === 0) return [];
    const amie = await this.amie.plan(await this.repo.amieInPairs(pairs, m), m);
    const accruals = await this.accruals.plan(pairs, m);
    if (repair) {
      if (!amie.postings.empty) await amie.postings.apply(m, this.ledger);
      if (!accruals.postings.empty) await accruals.postings.apply(m, this.ledger);
    }
    return [
      ...amie.differences.map((d): BudgetMismatch => ({ invariant: 'I6', project_id: d.project_id, day: d.at, budget_id: null, kind: 'amie', ref: d.ref, stored: d.stored, recomputed: d.recomputed })),
      ...accruals.differences.map((d): BudgetMismatch => ({ invariant: 'I6', project_id: d.project_id, day: d.day, budget_id: d.budget_id, kind: 'accrual', ref: `day:${d.day}`, stored: d.stored, recomputed: d.recomputed })),
    ];
  }
}
