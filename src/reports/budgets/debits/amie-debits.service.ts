import { Injectable, OnModuleInit } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Sql } from '../../../database/query-result';
import { UsageLoaderService } from '../../../usage/usage-loader.service';
import { Exact } from '../../decimal';
import { HoldTransitions } from '../holds/hold-transitions.service';
import { HoldsRepository } from '../holds/holds.repository';
import { BudgetLedgerService, EntryKind, LockedBudget } from '../ledger/budget-ledger.service';
import { BudgetOutside } from './budget-outside.service';
import { BudgetPostings } from './budget-postings';
import { AmieIdentity, AmieRecordState, BudgetDebitsRepository, LiveAmieEntry, OutsideRow } from './budget-debits.repository';

/** `actor` of the entries the system posts (reports.md 6.2). */
export const SYSTEM_ACTOR = 'system';

/** One AMIE record whose entries differ from what its loaded version asks for (I6). */
export interface AmieDifference {
  ref: string;
  project_id: string;
  at: string;
  /** The live entries' amounts, or `none`. */
  stored: string;
  /** The entry the version asks for, or `none` (outside every budget period). */
  recomputed: string;
}

interface Desired {
  budgetId: string;
  kind: EntryKind;
  amount: Exact;
  holdId: string | null;
  /** Whether this load settles the held hold `holdId` (6.4 AMIE link), rather than adjusting a settlement. */
  settlesHeld: boolean;
}

/**
 * AMIE records debit and credit budgets (reports.md 6.2, 6.4 "AMIE link"):
 * registered on the usage module's `UsageLoaderService.afterLoad`, so each
 * applied record version posts in the load's own transaction (usage imports
 * nothing of budgets). Recomputed from current state per record identity —
 * the loaded version, its SU amount, its budget, a held hold naming it —
 * against the live entries of its ref, so a repeat posts nothing and the
 * consistency check's repair (I6) is the same call.
 */
@Injectable()
export class AmieDebits implements OnModuleInit {
  constructor(
    private readonly loader: UsageLoaderService,
    private readonly repo: BudgetDebitsRepository,
    private readonly ledger: BudgetLedgerService,
    private readonly outside: BudgetOutside,
    private readonly transitions: HoldTransitions,
    private readonly holds: HoldsRepository,
  ) {}

  onModuleInit(): void {
    this.loader.afterLoad(async (batch, m) => {
      if (!(await this.repo.anyBudget(m))) return;
      const ids = await this.repo.appliedBy(batch.id, m);
      // The budgets a hold naming these records may be in are locked before the holds are looked
      // for, as a hold's create locks its budget before it looks whether the record is loaded: one
      // of the two waits for the other, so the load sees the hold or the create sees the record (6.4).
      for (const budgetId of await this.repo.holdBudgetsOf(ids, m)) await this.ledger.lock(m, budgetId);
      await this.reconcile(ids, m);
    });
  }

  /** Posts what the loaded versions of `ids` ask for; answers the entries posted. */
  async reconcile(ids: AmieIdentity[], m: EntityManager): Promise<number> {
    const { postings } = await this.plan(ids, m);
    return postings.empty ? 0 : postings.apply(m, this.ledger);
  }

  /**
   * What `ids` need posted, and each record whose entries differ (I6):
   *
   * - the entry its version asks for: a `hold_settle` in the hold's budget
   *   when a held hold of the same project names it (with the `hold_release`
   *   of the held amount) or when its live entry already is a settlement of
   *   a hold of that project (a resubmission adjusts it); else `amie_debit` /
   *   `amie_credit` in the budget whose period contains its attribution
   *   instant; none outside every budget period;
   * - every other live entry of its ref (an older version's, another
   *   project's) is reversed by an `amie_reversal` in its own budget;
   * - outside every period, its SU amount goes to the earlier budget's
   *   `outside_period` (and leaves it when the record moves).
   */
  async plan(ids: AmieIdentity[], sql: Sql): Promise<{ postings: BudgetPostings; differences: AmieDifference[] }> {
    const postings = new BudgetPostings();
    const differences: AmieDifference[] = [];
    const records = await this.repo.records(ids, sql);
    if (records.length === 0) return { postings, differences };
    const refs = records.map((r) => r.ref);
    const live = groupBy(await this.repo.liveAmieEntries(refs, sql), (e) => e.ref ?? '');
    const outside = groupBy(await this.repo.outsideOf(refs, sql), (o) => o.ref);
    for (const record of records) {
      const entries = live.get(record.ref) ?? [];
      const desired = this.desired(record, entries);
      const keep = desired ? entries.find((e) => e.source === record.source && e.budget_id === desired.budgetId && e.kind === desired.kind) : undefined;
      let changed = false;
      for (const entry of entries) {
        if (entry === keep) continue;
        changed = true;
        postings.post(entry.budget_id, {
          kind: 'amie_reversal',
          amount: new Exact(entry.amount).neg().toFixed(6),
          at: entry.at,
          ref: entry.ref,
          actor: SYSTEM_ACTOR,
          holdId: entry.hold_id,
          reverses: entry.id,
        });
        // A hold whose settlement by this record is reversed for good (the record moved to another project): nothing of it stays settled.
        if (entry.kind === 'hold_settle' && entry.hold_id && desired?.holdId !== entry.hold_id) {
          const holdId = entry.hold_id;
          postings.underLock(entry.budget_id, (m, budget) => this.resettle(m, budget, holdId, '0', record.ref));
        }
      }
      if (desired && !keep) {
        changed = true;
        if (desired.settlesHeld) {
          // The held hold naming the record: settled as the settle route settles it (hold_release + hold_settle, the hold row).
          const holdId = desired.holdId!;
          postings.underLock(desired.budgetId, (m, budget) => this.settle(m, budget, holdId, record));
        } else {
          postings.post(desired.budgetId, {
            kind: desired.kind,
            amount: desired.amount.toFixed(6),
            at: record.at,
            ref: record.ref,
            actor: SYSTEM_ACTOR,
            holdId: desired.holdId,
            source: record.source,
          });
          if (desired.holdId) {
            const holdId = desired.holdId;
            postings.underLock(desired.budgetId, (m, budget) => this.resettle(m, budget, holdId, record.su, record.ref));
          }
        }
      }
      changed = this.planOutside(record, desired, outside.get(record.ref) ?? [], postings) || changed;
      if (changed) {
        differences.push({
          ref: record.ref,
          project_id: record.project_id,
          at: record.at,
          stored: entries.length ? entries.map((e) => e.amount).join(' ') : 'none',
          recomputed: desired ? desired.amount.toFixed(6) : 'none',
        });
      }
    }
    return { postings, differences };
  }

  private desired(record: AmieRecordState, entries: LiveAmieEntry[]): Desired | null {
    const su = new Exact(record.su);
    if (record.hold_id) {
      return { budgetId: record.hold_budget_id!, kind: 'hold_settle', amount: su.neg(), holdId: record.hold_id, settlesHeld: true };
    }
    const settlement = entries.find((e) => e.kind === 'hold_settle' && e.hold_project_id === record.project_id && e.hold_budget_id);
    if (settlement) return { budgetId: settlement.hold_budget_id!, kind: 'hold_settle', amount: su.neg(), holdId: settlement.hold_id, settlesHeld: false };
    if (!record.budget_id) return null;
    return { budgetId: record.budget_id, kind: record.kind, amount: record.kind === 'amie_debit' ? su.neg() : su, holdId: null, settlesHeld: false };
  }

  /** Moves the record's outside-period row to where it belongs now; answers whether anything changed. */
  private planOutside(record: AmieRecordState, desired: Desired | null, rows: OutsideRow[], postings: BudgetPostings): boolean {
    const consumption = record.kind === 'amie_debit' ? new Exact(record.su) : new Exact(record.su).neg();
    const want = !desired && record.outside_budget_id ? { project_id: record.project_id, ref: record.ref, budget_id: record.outside_budget_id, amount: consumption.toFixed(6) } : null;
    return this.outside.plan(rows, want, postings);
  }

  /**
   * The AMIE link (6.4): settles the held hold naming the record with its SU
   * amount through HoldTransitions.settleLocked, the settle route's own
   * primitive (the budget is locked; the hold is locked here, after it):
   * `hold_release` of the held amount now, then `hold_settle` carrying the
   * record's `at`, `ref` and version (`source`), actor `system`.
   */
  private async settle(m: EntityManager, budget: LockedBudget, holdId: string, record: AmieRecordState): Promise<number> {
    const hold = await this.holds.lock(m, holdId);
    if (hold?.state !== 'held') throw new Error(`hold ${holdId} changed while its AMIE record loaded; the load is retried`);
    await this.transitions.settleLocked(m, budget, hold, record.su, SYSTEM_ACTOR, new Date(), { at: record.at, ref: record.ref, source: record.source });
    return 2;
  }

  /**
   * A settled hold whose settling record changed (a resubmission, 6.4 AMIE
   * link): its settled amount follows the record (0 once the record left the
   * hold's project), and what was refunded is never more than what stays
   * settled: a refund beyond it is taken back by a `refund` entry of the
   * difference, negative, naming the record. Without it a refund could credit
   * SU the project was never charged. Answers the entries posted.
   */
  private async resettle(m: EntityManager, budget: LockedBudget, holdId: string, settled: string, ref: string): Promise<number> {
    const hold = await this.holds.lock(m, holdId);
    if (hold?.state !== 'settled') return 0;
    const now = new Exact(settled);
    const excess = new Exact(hold.refundedAmount).minus(now);
    let posted = 0;
    if (excess.gt(0)) {
      const reason = `AMIE record ${ref.replace(/^amie:/, '')} changed: the refund is capped at the ${now.toFixed(6)} now settled`;
      await this.ledger.post(m, budget, [{ kind: 'refund', amount: excess.neg().toFixed(6), at: new Date(), actor: SYSTEM_ACTOR, ref: `hold:${holdId}`, holdId, reason }]);
      posted = 1;
    }
    await this.repo.resettleHold(holdId, now.toFixed(6), excess.gt(0) ? now.toFixed(6) : hold.refundedAmount, m);
    return posted;
  }
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) out.set(key(item), [...(out.get(key(item)) ?? []), item]);
  return out;
}
