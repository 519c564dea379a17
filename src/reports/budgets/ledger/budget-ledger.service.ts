import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Sql } from '../../../database/query-result';
import { BudgetLedgerRepository } from './budget-ledger.repository';

export { ENTRY_KINDS, FIGURE_OF } from './entry-kinds';
export type { EntryKind } from './entry-kinds';
export { ENTRY_COLUMNS } from './budget-ledger.repository';
import { EntryKind } from './entry-kinds';

/** A budget and its balance row (6.1, 6.3). Decimals as strings with 6 places; instants as ISO strings. */
export interface BudgetRow {
  id: string;
  projectId: string;
  periodStart: string;
  periodEnd: string;
  allocationId: number | null;
  approvalId: number | null;
  granted: string;
  /** −Σ of the consumed entries, without today's live accrual (6.2). */
  consumed: string;
  held: string;
  outsidePeriod: string;
}

/** A budget row read under `FOR UPDATE` in the current transaction: only such a row can be posted to. */
export interface LockedBudget extends BudgetRow {
  readonly locked: true;
}

/** An entry to append (6.2). `amount` is signed SU (negative lowers `available`), an exact decimal string. */
export interface NewEntry {
  kind: EntryKind;
  amount: string;
  /** What the entry belongs to (6.2 `at`). */
  at: Date | string;
  ref?: string | null;
  /** Token name, or `system` for the worker. */
  actor: string;
  reason?: string | null;
  holdId?: string | null;
  /** The writer's idempotency key (a record version, a day); never answered. */
  source?: string | null;
  /** The entry an `amie_reversal` reverses. */
  reverses?: string | null;
}

/** An entry as stored, in the answer's shape (6.2). */
export interface EntryRow {
  id: string;
  budget_id: string;
  project_id: string;
  kind: EntryKind;
  amount: string;
  at: string;
  posted_at: string;
  ref: string | null;
  actor: string;
  reason: string | null;
  hold_id: string | null;
  source: string | null;
  reverses: string | null;
}

/**
 * Called in the posting transaction, under the budget's row lock, after each
 * balance change (thresholds, 6.6). A listener that throws rolls the change
 * back.
 */
export interface BalanceListener {
  afterBalanceChange(sql: EntityManager, before: LockedBudget, after: LockedBudget): Promise<void>;
}

/**
 * The one way to change a budget's balance (reports.md 6.2, 6.3, I6): lock
 * the budget row, append entries, move the row's figures by the sums of the
 * entries, in the caller's transaction. Sums are computed by PostgreSQL in
 * `numeric`, never in JavaScript numbers (budget-ledger.repository.ts).
 *
 * Every writer (grants, AMIE debits, accruals, holds, manual entries) goes
 * through `post`; listeners (threshold detection) see each change under the
 * same lock.
 */
@Injectable()
export class BudgetLedgerService {
  private readonly listeners: BalanceListener[] = [];

  constructor(private readonly repo: BudgetLedgerRepository) {}

  /** Registers a listener (at module init). */
  addListener(listener: BalanceListener): void {
    this.listeners.push(listener);
  }

  removeListener(listener: BalanceListener): void {
    const at = this.listeners.indexOf(listener);
    if (at >= 0) this.listeners.splice(at, 1);
  }

  transaction<T>(run: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.repo.transaction(run);
  }

  /** The budget by id, unlocked; undefined when none. */
  find(sql: Sql, budgetId: string): Promise<BudgetRow | undefined> {
    return this.repo.find(sql, budgetId);
  }

  /** The project's budget whose period contains `at` (6.1: budgets of a project never overlap), unlocked. */
  findAt(sql: Sql, projectId: string, at: Date | string): Promise<BudgetRow | undefined> {
    return this.repo.findAt(sql, projectId, toIso(at));
  }

  /** Locks the budget row to the end of the transaction and reads it; undefined when none. */
  async lock(m: EntityManager, budgetId: string): Promise<LockedBudget | undefined> {
    const row = await this.repo.find(m, budgetId, true);
    return row ? { ...row, locked: true } : undefined;
  }

  /** Locks the project's budget whose period contains `at`; undefined when none. */
  async lockAt(m: EntityManager, projectId: string, at: Date | string): Promise<LockedBudget | undefined> {
    const row = await this.repo.findAt(m, projectId, toIso(at), true);
    return row ? { ...row, locked: true } : undefined;
  }

  /**
   * Appends `entries` to a locked budget and moves its figures; answers the
   * entries (in order) and the budget after. Nothing is written when
   * `entries` is empty.
   */
  async post(m: EntityManager, budget: LockedBudget, entries: NewEntry[]): Promise<{ budget: LockedBudget; entries: EntryRow[] }> {
    if (entries.length === 0) return { budget, entries: [] };
    const { after, inserted } = await this.repo.append(m, budget, entries, toIso);
    const locked: LockedBudget = { ...after, locked: true };
    for (const listener of this.listeners) await listener.afterBalanceChange(m, budget, locked);
    return { budget: locked, entries: inserted };
  }

  /**
   * Adds `delta` (signed SU of consumption) to a locked budget's
   * `outside_period` (reports.md 6.2: usage after its end and before the
   * next budget's start). Called only by BudgetPostings for BudgetOutside
   * (src/reports/budgets/debits/budget-outside.service.ts), which writes the
   * `report_budget_outside` row the figure sums with it, under the same row
   * lock as the balance; nothing else moves outside_period (I6). Not a
   * ledger entry: it moves no figure of 6.3.
   */
  async addOutsidePeriod(m: EntityManager, budget: LockedBudget, delta: string): Promise<LockedBudget> {
    return { ...(await this.repo.addOutsidePeriod(m, budget.id, delta)), locked: true };
  }

  /**
   * Repairs a locked budget's balance row from its entries (the consistency
   * check's repair of I6, reports.md 7.5): granted, consumed and held become
   * the sums `verifyBalance` compares them with. Added for the budget debits'
   * check; the entries are the truth, the row their cache.
   */
  async restoreBalance(m: EntityManager, budget: LockedBudget): Promise<LockedBudget> {
    return { ...(await this.repo.restoreBalance(m, budget.id)), locked: true };
  }

  /**
   * Invariant I6's first half for one budget: the row's figures against the
   * sums of its entries. Answers the differences (empty when they agree).
   */
  async verifyBalance(sql: Sql, budgetId: string): Promise<{ figure: string; stored: string; summed: string }[]> {
    const row = await this.repo.summed(sql, budgetId);
    if (!row) return [];
    const out: { figure: string; stored: string; summed: string }[] = [];
    if (row.granted !== row.g) out.push({ figure: 'granted', stored: row.granted, summed: row.g });
    if (row.consumed !== row.c) out.push({ figure: 'consumed', stored: row.consumed, summed: row.c });
    if (row.held !== row.h) out.push({ figure: 'held', stored: row.held, summed: row.h });
    return out;
  }
}

function toIso(at: Date | string): string {
  return at instanceof Date ? at.toISOString() : at;
}
