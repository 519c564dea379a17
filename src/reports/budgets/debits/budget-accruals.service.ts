import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Sql } from '../../../database/query-result';
import { CellKey } from '../../rollups/rollup.repository';
import { Exact } from '../../decimal';
import { BudgetLedgerService } from '../ledger/budget-ledger.service';
import { SYSTEM_ACTOR } from './amie-debits.service';
import { BudgetOutside } from './budget-outside.service';
import { BudgetPostings } from './budget-postings';
import { AccrualPosted, BudgetDebitsRepository, OutsideRow } from './budget-debits.repository';

/** One booked (project, day) whose accrual differs from its live SU cost (I6). */
export interface AccrualDifference {
  project_id: string;
  day: string;
  budget_id: string | null;
  /** Σ of its accrual entries (all budgets), negated: the SU the ledger has consumed for the day. */
  stored: string;
  /** Its live SU cost. */
  recomputed: string;
}

/**
 * Accruals of booked days (reports.md 6.2, 7.2): the SU cost of a project's
 * instance and volume meters on a booked day (its live rated day cells in
 * `SU`) is consumed from the budget containing the day's start, as one
 * `accrual` and later `accrual_adjustment`s of the difference. Called like
 * AdjustmentPoster: by the drain after it re-rates the booked keys, and by
 * re-rate and correction chunks, in the transaction that changes the rated
 * cells (the caller holds the (project, day) locks). Recomputed from current
 * state (live cost − Σ accrual entries of that budget and day), so a repeat
 * posts nothing. A day outside every budget period goes to the earlier
 * budget's `outside_period`.
 */
@Injectable()
export class BudgetAccruals {
  constructor(
    private readonly repo: BudgetDebitsRepository,
    private readonly ledger: BudgetLedgerService,
    private readonly outside: BudgetOutside,
  ) {}

  /** Posts the accruals the booked `keys`' (project, day) pairs need; answers the entries posted. */
  async postFor(keys: CellKey[], m: EntityManager): Promise<number> {
    if (keys.length === 0) return 0;
    const { postings } = await this.plan(pairsOf(keys), m);
    return postings.empty ? 0 : postings.apply(m, this.ledger);
  }

  /** What (project, day) pairs need posted, and each pair whose entries differ from its live SU cost. */
  async plan(pairs: [string, string][], sql: Sql): Promise<{ postings: BudgetPostings; differences: AccrualDifference[] }> {
    const postings = new BudgetPostings();
    const differences: AccrualDifference[] = [];
    const days = await this.repo.accrualDays(pairs, sql);
    if (days.length === 0) return { postings, differences };
    const key = (project: string, ref: string) => `${project}\u0001${ref}`;
    const posted = new Map<string, AccrualPosted[]>();
    for (const row of await this.repo.accrualsPosted(days, sql)) posted.set(key(row.project_id, row.ref), [...(posted.get(key(row.project_id, row.ref)) ?? []), row]);
    const outside = new Map<string, OutsideRow[]>();
    for (const row of await this.repo.outsideOf([...new Set(days.map((d) => d.ref))], sql)) outside.set(key(row.project_id, row.ref), [row]);
    for (const day of days) {
      const cost = new Exact(day.cost);
      const rows = posted.get(key(day.project_id, day.ref)) ?? [];
      let changed = false;
      // Entries left in a budget that no longer contains the day (its period moved) go back to zero there.
      for (const row of rows) {
        if (row.budget_id === day.budget_id || new Exact(row.amount).isZero()) continue;
        changed = true;
        postings.post(row.budget_id, { kind: 'accrual_adjustment', amount: new Exact(row.amount).neg().toFixed(6), at: day.at, ref: day.ref, actor: SYSTEM_ACTOR, source: day.ref });
      }
      if (day.budget_id) {
        const here = rows.find((r) => r.budget_id === day.budget_id);
        const difference = cost.neg().minus(here?.amount ?? 0);
        if (!difference.isZero()) {
          changed = true;
          postings.post(day.budget_id, { kind: here ? 'accrual_adjustment' : 'accrual', amount: difference.toFixed(6), at: day.at, ref: day.ref, actor: SYSTEM_ACTOR, source: day.ref });
        }
      }
      const want = !day.budget_id && day.outside_budget_id && !cost.isZero() ? { project_id: day.project_id, ref: day.ref, budget_id: day.outside_budget_id, amount: cost.toFixed(6) } : null;
      changed = this.outside.plan(outside.get(key(day.project_id, day.ref)) ?? [], want, postings) || changed;
      if (changed) {
        const stored = rows.reduce((sum, r) => sum.minus(r.amount), new Exact(0));
        differences.push({ project_id: day.project_id, day: day.day, budget_id: day.budget_id ?? day.outside_budget_id, stored: stored.toFixed(6), recomputed: cost.toFixed(6) });
      }
    }
    return { postings, differences };
  }
}

/** The distinct (project, day) pairs of rollup keys. */
export function pairsOf(keys: CellKey[]): [string, string][] {
  const seen = new Map<string, [string, string]>();
  for (const k of keys) seen.set(`${k.project_id}\u0001${k.day}`, [k.project_id, k.day]);
  return [...seen.values()];
}
