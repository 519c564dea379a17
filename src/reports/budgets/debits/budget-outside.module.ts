import { Module } from '@nestjs/common';
import { BudgetLedgerModule } from '../ledger/budget-ledger.module';
import { BudgetDebitsRepository } from './budget-debits.repository';
import { BudgetOutside } from './budget-outside.service';

/**
 * `outside_period` and its `report_budget_outside` rows (reports.md 6.2):
 * the debits' SQL and BudgetOutside, the one writer of both. Imported by
 * BudgetDebitsModule and by BudgetDerivationModule (a shortened period's
 * entries that no budget holds), without the usage loader the debits hook
 * into.
 */
@Module({
  imports: [BudgetLedgerModule],
  providers: [BudgetDebitsRepository, BudgetOutside],
  exports: [BudgetDebitsRepository, BudgetOutside],
})
export class BudgetOutsideModule {}
