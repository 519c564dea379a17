import { Module } from '@nestjs/common';
import { QueueModule } from '../../../queue/queue.module';
import { BudgetLedgerModule } from '../ledger/budget-ledger.module';
import { HoldExpiryLoop } from './hold-expiry.loop';
import { HoldTransitions } from './hold-transitions.service';
import { HoldsRepository } from './holds.repository';

/**
 * Holds, the processing side (worker, and the API without Redis): the
 * expiry loop, and the state changes it shares with the routes (and with
 * the AMIE load, which settles the hold naming its record).
 */
@Module({
  imports: [QueueModule, BudgetLedgerModule],
  providers: [HoldsRepository, HoldTransitions, HoldExpiryLoop],
  exports: [HoldsRepository, HoldTransitions, HoldExpiryLoop],
})
export class HoldsProcessingModule {}
