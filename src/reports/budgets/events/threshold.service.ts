import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Exact } from '../../decimal';
import { BalanceListener, BudgetLedgerService, LockedBudget } from '../ledger/budget-ledger.service';
import { BudgetPolicyService } from '../policy/budget-policy.service';
import { ArmingsRepository } from './armings.repository';
import { EventsRepository } from './events.repository';

/** How a budget is evaluated: with which consumed, and whether a threshold may re-arm. */
export interface Evaluation {
  /** 6.3's consumed as far as the caller knows it (the row's, plus accrued_today for the live evaluator). */
  consumed: string;
  /** Whether a crossed threshold whose test is false now re-arms (only with the whole of consumed). */
  rearm: boolean;
}

/**
 * Threshold alerts, exactly once (reports.md 6.6, I7). Under the budget's
 * row lock, each threshold `t` of the project's policy is tested exactly
 * (`consumed × 100 ≥ t × granted`, decimals, never the rounded ratio;
 * granted 0 never crosses). An armed threshold whose test is true gets its
 * arming row and a `budget.threshold_crossed` event in the same
 * transaction; the arming row's key (budget, threshold, arming) and the row
 * lock make it one event per crossing. A crossed threshold whose test is
 * false again re-arms with `budget.threshold_rearmed`.
 *
 * Two callers. As the ledger's BalanceListener it runs in every posting
 * transaction (API and worker) with the row's consumed, the Σ of entries:
 * that is 6.3's consumed minus accrued_today, a lower bound (accrued_today
 * is a cost, never negative), so a crossing it sees is real and is emitted
 * at once; it never re-arms, because a false test without accrued_today
 * proves nothing. accrued_today is read through the usage report in a
 * transaction of its own (AccruedTodayService), which a posting transaction
 * under a row lock must not wait for (and on embedded PostgreSQL cannot:
 * one connection). The live evaluator (ThresholdEvaluator, every 30 s)
 * adds accrued_today and does both: crossings by today's usage or a policy
 * change, and re-arming.
 */
@Injectable()
export class ThresholdService implements BalanceListener, OnModuleInit, OnModuleDestroy {
  constructor(
    private readonly ledger: BudgetLedgerService,
    private readonly policies: BudgetPolicyService,
    private readonly armings: ArmingsRepository,
    private readonly events: EventsRepository,
  ) {}

  onModuleInit(): void {
    this.ledger.addListener(this);
  }

  onModuleDestroy(): void {
    this.ledger.removeListener(this);
  }

  async afterBalanceChange(m: EntityManager, before: LockedBudget, after: LockedBudget): Promise<void> {
    // Only granted and consumed move a threshold's test (holds move held).
    if (before.granted === after.granted && before.consumed === after.consumed) return;
    await this.evaluate(m, after, { consumed: after.consumed, rearm: false });
  }

  /** Evaluates every threshold of a locked budget; answers the ids of the events emitted. */
  async evaluate(m: EntityManager, budget: LockedBudget, how: Evaluation): Promise<string[]> {
    const granted = new Exact(budget.granted);
    const consumed = new Exact(how.consumed);
    const policy = await this.policies.effective(m, budget.projectId);
    const latest = await this.armings.latest(m, budget.id);
    const emitted: string[] = [];
    for (const threshold of policy.thresholds) {
      const crossed = granted.gt(0) && consumed.times(100).gte(granted.times(threshold));
      const last = latest.get(threshold);
      if (crossed && !last?.open) {
        const arming = (last?.arming ?? 0) + 1;
        const id = await this.events.emit(m, 'budget.threshold_crossed', budget.projectId, data(budget, granted, consumed, threshold, arming));
        await this.armings.cross(m, budget.id, threshold, arming, id);
        emitted.push(id);
      } else if (!crossed && last?.open && how.rearm) {
        const id = await this.events.emit(m, 'budget.threshold_rearmed', budget.projectId, data(budget, granted, consumed, threshold, last.arming));
        await this.armings.rearm(m, budget.id, threshold, last.arming, id);
        emitted.push(id);
      }
    }
    return emitted;
  }
}

/** `data` of both budget events (6.7). */
function data(budget: LockedBudget, granted: Exact, consumed: Exact, threshold: number, arming: number): Record<string, unknown> {
  return {
    allocation_id: budget.allocationId,
    threshold,
    arming,
    ratio: granted.gt(0) ? consumed.div(granted).toFixed(6) : null,
    granted: granted.toFixed(6),
    consumed: consumed.toFixed(6),
    unit: 'SU',
    period: { start: budget.periodStart, end: budget.periodEnd },
  };
}
