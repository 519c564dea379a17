import { EntityManager } from 'typeorm';
import { Exact } from '../../decimal';
import { BudgetLedgerService, LockedBudget, NewEntry } from '../ledger/budget-ledger.service';

/** A write to run after the budgets are locked (hold rows, outside-period rows). */
type After = (m: EntityManager) => Promise<void>;

/** A write to run under one budget's row lock, in order with its entries; answers how many entries it posted. */
export type UnderLock = (m: EntityManager, budget: LockedBudget) => Promise<number>;

type Step = { entries: NewEntry[] } | { run: UnderLock };

/**
 * What one reconciliation posts (reports.md 6.2): entries, writes that need
 * the budget locked (an AMIE record settling its hold through
 * HoldTransitions.settleLocked) and outside-period changes per budget,
 * applied in ascending budget id so that concurrent writers (the AMIE load,
 * the drain, the check's repair) lock budget rows in the same order; then
 * the dependent row writes, under those locks.
 */
export class BudgetPostings {
  private readonly steps = new Map<string, Step[]>();
  private readonly outside = new Map<string, Exact>();
  private readonly after: After[] = [];

  post(budgetId: string, entry: NewEntry): void {
    const steps = this.stepsOf(budgetId);
    const last = steps[steps.length - 1];
    if (last && 'entries' in last) last.entries.push(entry);
    else steps.push({ entries: [entry] });
  }

  /** Runs `write` under the budget's row lock, after the entries planned for it so far and before those planned later. */
  underLock(budgetId: string, write: UnderLock): void {
    this.stepsOf(budgetId).push({ run: write });
  }

  /** Moves the budget's outside_period by `delta` (signed SU of consumption). */
  moveOutside(budgetId: string, delta: Exact): void {
    this.outside.set(budgetId, (this.outside.get(budgetId) ?? new Exact(0)).plus(delta));
  }

  then(write: After): void {
    this.after.push(write);
  }

  get empty(): boolean {
    return this.steps.size === 0 && [...this.outside.values()].every((d) => d.isZero()) && this.after.length === 0;
  }

  /** Locks each budget (ascending id), posts its entries and runs its locked writes in order, moves its outside_period, then runs the dependent writes. */
  async apply(m: EntityManager, ledger: BudgetLedgerService): Promise<number> {
    const ids = [...new Set([...this.steps.keys(), ...this.outside.keys()])].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0));
    let posted = 0;
    for (const id of ids) {
      let budget = await ledger.lock(m, id);
      if (!budget) throw new Error(`budget ${id} vanished during a reconciliation`);
      for (const step of this.steps.get(id) ?? []) {
        if ('entries' in step) {
          budget = (await ledger.post(m, budget, step.entries)).budget;
          posted += step.entries.length;
        } else {
          posted += await step.run(m, budget);
          // The write posted through the ledger itself: read the row again (the lock is held).
          budget = (await ledger.lock(m, id))!;
        }
      }
      const delta = this.outside.get(id);
      if (delta && !delta.isZero()) await ledger.addOutsidePeriod(m, budget, delta.toFixed(6));
    }
    for (const write of this.after) await write(m);
    return posted;
  }

  private stepsOf(budgetId: string): Step[] {
    let steps = this.steps.get(budgetId);
    if (!steps) this.steps.set(budgetId, (steps = []));
    return steps;
  }
}
