import { Inject, Injectable } from '@nestjs/common';
import { Logger } from 'pino';
import { EntityManager } from 'typeorm';
import { ApprovalInForce, QuotaLinkRepository } from '../../../allocations/quota-link/quota-link.repository';
import { embeddedQuotas } from '../../../allocations/requests/embedded-quotas';
import { AppConfig } from '../../../config/app-config';
import { LOGGER } from '../../../core/tokens';
import { Exact } from '../../decimal';
import { BudgetOutside, OutsideEntry } from '../debits/budget-outside.service';
import { BudgetLedgerService, EntryKind, EntryRow, LockedBudget, NewEntry } from '../ledger/budget-ledger.service';
import { BudgetDerivationRepository, DerivedBudgetRow, MOVE_SOURCE } from './budget-derivation.repository';

/** The budget an approval in force asks for (6.1). */
export interface WantedBudget {
  start: string;
  end: string;
  /** Σ of the finite `rating.budget` entries, 6 places. */
  granted: string;
  allocationId: number;
  approvalId: number;
}

const BUDGET_CODENAME = 'rating.budget';
const SYSTEM = 'system';

/** The entry that takes a moved entry out of its old budget. */
const REVERSAL_OF: Partial<Record<EntryKind, EntryKind>> = {
  amie_debit: 'amie_reversal',
  amie_credit: 'amie_reversal',
  amie_reversal: 'amie_reversal',
  accrual: 'accrual_adjustment',
  accrual_adjustment: 'accrual_adjustment',
  manual_credit: 'manual_debit',
  manual_debit: 'manual_credit',
};

/**
 * Derives a project's budgets from its approval in force (reports.md 6.1):
 * the approval in force and its embedded `rating.budget` entries are read
 * exactly as the quota link and the allocation answer compute them
 * (QuotaLinkRepository.approvalInForce, embeddedQuotas); every balance
 * change is a ledger entry posted under the budget's row lock.
 *
 * - no budget wanted (no approval, no finite entry, dates missing or not in
 *   order): budgets an approval made that still run end now; one that has not started shrinks
 *   to its first microsecond, so it never becomes current;
 * - a budget starting at the wanted start is updated: a new end moves its
 *   period, a new amount posts a `grant_adjustment` of the difference;
 * - otherwise a new budget is created with a `grant` at its start, and an
 *   earlier budget still running at that start ends there;
 * - a budget that starts inside the wanted period (an approval moved back)
 *   is left as it is and the wanted budget ends where it starts: budgets of a
 *   project never overlap.
 *
 * When a budget's end moves earlier, its usage entries dated at or after the
 * new end follow their `at` (the reconciliation of late data, 7.2): each is
 * reversed in the old budget and posted again, same kind, amount, `ref` and
 * `source`, in the budget whose period now holds it, or, when none does,
 * added to the `outside_period` of the latest budget that ended at or before
 * it (the old one, usually) through BudgetOutside, with the
 * `report_budget_outside` row the AMIE debits and accruals keep, so that
 * their reconciliations and I6 find it in place.
 */
@Injectable()
export class BudgetDerivationService {
  private readonly log: Logger;

  constructor(
    private readonly repository: BudgetDerivationRepository,
    private readonly approvals: QuotaLinkRepository,
    private readonly ledger: BudgetLedgerService,
    private readonly outside: BudgetOutside,
    private readonly config: AppConfig,
    @Inject(LOGGER) log: Logger,
  ) {
    this.log = log.child({ component: 'budget-derivation' });
  }

  /** Derives every owed project (up to `limit`), oldest first; answers how many were looked at. A failed one stays owed. */
  async runOwed(limit = 100): Promise<number> {
    const owed = await this.repository.owed(limit);
    for (const { projectId } of owed) {
      try {
        await this.derive(projectId);
      } catch (error) {
        this.log.warn({ projectId, err: { message: (error as Error).message } }, 'budget derivation failed; still owed');
      }
    }
    return owed.length;
  }

  /** One project, in one transaction; clears the mark it read unless a newer one came meanwhile. */
  async derive(projectId: string): Promise<void> {
    await this.repository.transaction(async (m) => {
      await this.repository.lockProject(m, projectId);
      // Read the seq before the allocations: a change committed after this read leaves its own mark owed.
      const seq = await this.repository.owedSeq(m, projectId);
      const inForce = await this.approvals.approvalInForce(m, projectId);
      const wanted = inForce ? await this.wanted(m, inForce) : null;
      await this.apply(m, projectId, wanted);
      if (seq !== undefined) await this.repository.clearOwed(m, projectId, seq);
    });
  }

  /** The budget an approval in force asks for, or null (6.1's no-budget cases). */
  private async wanted(m: EntityManager, inForce: ApprovalInForce): Promise<WantedBudget | null> {
    const dates = await this.repository.approvalDates(m, inForce.approval.id);
    if (dates.start_date === null || dates.end_date === null || dates.end_date <= dates.start_date) return null;
    const { codenames } = await this.approvals.resourceCodenames(m);
    const entries = embeddedQuotas(inForce.approval, inForce.bundle, inForce.quotas, codenames).filter((q) => q.resource === BUDGET_CODENAME && q.quota >= 0);
    if (entries.length === 0) return null;
    const granted = entries.reduce((sum, q) => sum.plus(q.quota), new Exact(0)).toFixed(6);
    const period = await this.repository.dayStarts(m, dates.start_date, dates.end_date, this.config.reportTimeZone);
    return { ...period, granted, allocationId: inForce.currentId, approvalId: inForce.approval.id };
  }

  private async apply(m: EntityManager, projectId: string, wanted: WantedBudget | null): Promise<void> {
    const budgets = await this.repository.budgets(m, projectId);
    const shrunk: Shrunk[] = [];
    if (!wanted) {
      const now = await this.repository.now(m);
      for (const b of budgets.filter((x) => x.periodEnd > now && x.allocationId !== null)) {
        shrunk.push(await this.shrink(m, b, b.periodStart < now ? now : plusMicrosecond(b.periodStart)));
      }
      await this.follow(m, projectId, shrunk);
      return;
    }
    let end = wanted.end;
    for (const b of budgets) if (b.periodStart > wanted.start && b.periodStart < end) end = b.periodStart;
    for (const b of budgets) {
      if (b.periodStart < wanted.start && b.periodEnd > wanted.start) shrunk.push(await this.shrink(m, b, wanted.start));
    }
    const target = budgets.find((b) => b.periodStart === wanted.start);
    const ref = `allocation:${wanted.allocationId}`;
    if (target) {
      if (end < target.periodEnd) shrunk.push(await this.shrink(m, target, end));
      const locked = (await this.ledger.lock(m, target.id))!;
      if (end > target.periodEnd) await this.repository.setPeriodEnd(m, target.id, end);
      await this.repository.setAllocation(m, target.id, wanted.allocationId, wanted.approvalId);
      const delta = new Exact(wanted.granted).minus(target.derivedGrant);
      if (!delta.isZero()) await this.ledger.post(m, locked, [{ kind: 'grant_adjustment', amount: delta.toFixed(6), at: target.periodStart, ref, actor: SYSTEM }]);
    } else {
      const id = await this.repository.insertBudget(m, { projectId, start: wanted.start, end, allocationId: wanted.allocationId, approvalId: wanted.approvalId });
      const created = (await this.ledger.lock(m, id))!;
      await this.ledger.post(m, created, [{ kind: 'grant', amount: wanted.granted, at: wanted.start, ref, actor: SYSTEM }]);
      this.log.info({ projectId, budget: id, start: wanted.start, end, granted: wanted.granted }, 'budget created from the approval in force');
    }
    // After the new budget exists, so that entries an earlier budget gave up at its start move into it.
    await this.follow(m, projectId, shrunk);
  }

  /** Moves a locked budget's end earlier (the period only). */
  private async shrink(m: EntityManager, b: DerivedBudgetRow, end: string): Promise<Shrunk> {
    const locked = (await this.ledger.lock(m, b.id))!;
    if (end < b.periodEnd) await this.repository.setPeriodEnd(m, b.id, end);
    return { budget: locked, start: b.periodStart, end };
  }

  /** The usage entries of shrunk budgets dated outside their period follow their `at` (7.2's reconciliation). */
  private async follow(m: EntityManager, projectId: string, shrunk: Shrunk[]): Promise<void> {
    for (const { budget, start, end } of shrunk) {
      const outside = await this.repository.entriesOutside(m, budget.id, start, end);
      if (outside.length === 0) continue;
      await this.ledger.post(m, (await this.ledger.lock(m, budget.id))!, outside.map(reversal));
      const homeless: OutsideEntry[] = [];
      for (const e of outside) {
        const home = await this.ledger.lockAt(m, projectId, e.at_exact);
        if (home) await this.ledger.post(m, home, [copy(e)]);
        else homeless.push(e);
      }
      // The debits' one writer of outside_period: the figure and its report_budget_outside row together (I6).
      await this.outside.addMoved(m, projectId, homeless);
      this.log.info({ projectId, budget: budget.id, end, moved: outside.length }, 'budget period ended earlier; its later entries followed their date');
    }
  }
}

interface Shrunk {
  budget: LockedBudget;
  start: string;
  end: string;
}

function reversal(e: EntryRow & { at_exact: string }): NewEntry {
  return {
    kind: REVERSAL_OF[e.kind] ?? e.kind,
    amount: new Exact(e.amount).negated().toFixed(6),
    at: e.at_exact,
    ref: e.ref,
    actor: SYSTEM,
    reason: null,
    source: `${MOVE_SOURCE}${e.id}`,
    reverses: e.id,
  };
}

function copy(e: EntryRow & { at_exact: string }): NewEntry {
  return { kind: e.kind, amount: e.amount, at: e.at_exact, ref: e.ref, actor: e.actor, reason: e.reason, holdId: e.hold_id, source: e.source };
}

/** `…SS.ffffffZ` plus one microsecond (a budget that never started: the shortest period there is). */
function plusMicrosecond(instant: string): string {
  const whole = instant.slice(0, 19);
  const micros = Number(instant.slice(20, 26)) + 1;
  if (micros < 1_000_000) return `${whole}.${String(micros).padStart(6, '0')}Z`;
  return `${new Date(Date.parse(`${whole}Z`) + 1000).toISOString().slice(0, 19)}.000000Z`;
}
