import { Module } from '@nestjs/common';
import { UsageProcessingModule } from '../../../usage/usage-processing.module';
import { HoldsProcessingModule } from '../holds/holds-processing.module';
import { BudgetLedgerModule } from '../ledger/budget-ledger.module';
import { AmieDebits } from './amie-debits.service';
import { BudgetAccruals } from './budget-accruals.service';
import { BudgetDebitsCheck } from './budget-debits-check.service';
import { BudgetOutsideModule } from './budget-outside.module';

/**
 * What debits and credits budgets from usage (reports.md 6.2): AMIE debits
 * on the usage loader's afterLoad hook, accruals for the drain and re-rate
 * chunks, and I6 for the consistency check; the AMIE link settles holds
 * through HoldsProcessingModule's HoldTransitions. Imported by
 * ReportsProcessingModule, so wherever batches load or keys drain (worker,
 * and the API without Redis).
 */
@Module({
  imports: [UsageProcessingModule, BudgetLedgerModule, BudgetOutsideModule, HoldsProcessingModule],
  providers: [AmieDebits, BudgetAccruals, BudgetDebitsCheck],
  exports: [AmieDebits, BudgetAccruals, BudgetDebitsCheck],
})
export class BudgetDebitsModule {}
