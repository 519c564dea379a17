import { Module } from '@nestjs/common';
import { CsvExportModule } from '../../export/csv-export.module';
import { UsageReadModule } from '../../usage/usage-read.module';
import { BudgetDerivationModule } from '../derivation/budget-derivation.module';
import { BudgetFiguresModule } from '../figures/budget-figures.module';
import { BudgetLedgerModule } from '../ledger/budget-ledger.module';
import { BudgetsAdminController, BudgetsController } from './budgets.controller';
import { BudgetsRepository } from './budgets.repository';
import { BudgetsService } from './budgets.service';

/**
 * The budget routes (reports.md 6.5) and, through BudgetDerivationModule,
 * the derivation loop where the API consumes the queue (REDIS_URL unset).
 */
@Module({
  imports: [CsvExportModule, UsageReadModule, BudgetLedgerModule, BudgetFiguresModule, BudgetDerivationModule],
  controllers: [BudgetsController, BudgetsAdminController],
  providers: [BudgetsRepository, BudgetsService],
})
export class BudgetsApiModule {}
