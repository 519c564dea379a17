import { Module } from '@nestjs/common';
import { BudgetFiguresModule } from '../figures/budget-figures.module';
import { BudgetLedgerModule } from '../ledger/budget-ledger.module';
import { HoldsController } from './holds.controller';
import { HoldsProcessingModule } from './holds-processing.module';
import { HoldsService } from './holds.service';

/** The hold routes (reports.md 6.4) in the API process. */
@Module({
  imports: [HoldsProcessingModule, BudgetLedgerModule, BudgetFiguresModule],
  controllers: [HoldsController],
  providers: [HoldsService],
})
export class HoldsModule {}
