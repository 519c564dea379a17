import { Module } from '@nestjs/common';
import { AllocationQuotaLinkModule } from '../../../allocations/quota-link/quota-link.module';
import { QueueModule } from '../../../queue/queue.module';
import { BudgetOutsideModule } from '../debits/budget-outside.module';
import { BudgetLedgerModule } from '../ledger/budget-ledger.module';
import { BudgetDerivationRepository } from './budget-derivation.repository';
import { BudgetDerivationService } from './budget-derivation.service';
import { BudgetLoops } from './budget-loops.service';

/**
 * Budgets derived from approvals in force (reports.md 6.1): the loop and what
 * it calls. The worker imports it; so does the API, where the loop runs only
 * when the queue is in-process. The approval in force is read through the
 * quota link's repository (the allocation tables, no allocation HTTP code);
 * entries a shortened period leaves with no budget go to `outside_period`
 * through BudgetOutsideModule (the debits' one writer of it).
 */
@Module({
  imports: [QueueModule, BudgetLedgerModule, BudgetOutsideModule, AllocationQuotaLinkModule],
  providers: [BudgetDerivationRepository, BudgetDerivationService, BudgetLoops],
  exports: [BudgetDerivationService, BudgetLoops],
})
export class BudgetDerivationModule {}
