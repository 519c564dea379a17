import { Inject, Injectable } from '@nestjs/common';
import { Logger } from 'pino';
import { AppConfig } from '../../../config/app-config';
import { LOGGER } from '../../../core/tokens';
import { Exact } from '../../decimal';
import { AccruedTodayService } from '../figures/accrued-today.service';
import { BudgetLedgerService } from '../ledger/budget-ledger.service';
import { ArmingsRepository } from './armings.repository';
import { ThresholdService } from './threshold.service';

/** Budgets whose accrued_today is read in one go. */
const BATCH = 500;

/**
 * The live threshold evaluator of reports.md 6.6: every current budget,
 * with 6.3's whole consumed (the row's plus accrued_today), under its row
 * lock, one short transaction per budget. It catches what no posting
 * transaction sees: today's accrual, policy changes, and re-arming (see
 * ThresholdService). Run every 30 s by EventsLoops wherever the queue is
 * consumed; any number of processes may run it at once (the row lock).
 *
 * accrued_today is read before the lock, outside the transaction. A budget
 * is skipped for the round when the local day changed in between (the day
 * roll may have turned yesterday's accrual into an entry: it would count
 * twice); a budget whose booked days may still owe their accrual is
 * evaluated without re-arming (it would be short of that day's cost).
 */
@Injectable()
export class ThresholdEvaluator {
  private readonly log: Logger;

  constructor(
    private readonly ledger: BudgetLedgerService,
    private readonly accrued: AccruedTodayService,
    private readonly armings: ArmingsRepository,
    private readonly thresholds: ThresholdService,
    private readonly config: AppConfig,
    @Inject(LOGGER) log: Logger,
  ) {
    this.log = log.child({ component: 'budget-thresholds' });
  }

  /** One pass over every current budget; answers the ids of the events emitted. */
  async evaluateAll(): Promise<string[]> {
    const emitted: string[] = [];
    const budgets = await this.armings.current();
    for (let at = 0; at < budgets.length; at += BATCH) {
      const batch = budgets.slice(at, at + BATCH);
      const projects = [...new Set(batch.map((b) => b.projectId))];
      const day = await this.armings.today(this.config.reportTimeZone);
      const accrued = await this.accrued.of(projects);
      const pending = await this.armings.accrualPending(projects);
      for (const { id, projectId } of batch) {
        const ids = await this.ledger.transaction(async (m) => {
          if ((await this.armings.today(this.config.reportTimeZone, m)) !== day) return [];
          const budget = await this.ledger.lock(m, id);
          if (!budget) return [];
          const consumed = new Exact(budget.consumed).plus(accrued.get(projectId) ?? '0').toFixed(6);
          return this.thresholds.evaluate(m, budget, { consumed, rearm: !pending.has(projectId) });
        });
        emitted.push(...ids);
      }
    }
    if (emitted.length) this.log.info({ events: emitted.length }, 'budget thresholds: live evaluation emitted events');
    return emitted;
  }
}
