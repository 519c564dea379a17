import { Module } from '@nestjs/common';
import { ReportsProcessingModule } from '../../reports-processing.module';
import { UsageReadModule } from '../../usage/usage-read.module';
import { AccruedTodayRepository } from './accrued-today.repository';
import { AccruedTodayService } from './accrued-today.service';

/** Live budget figures read from the reports (6.2 `accrued_today`): for the budget routes, the hold check and the threshold evaluator. */
@Module({ imports: [ReportsProcessingModule, UsageReadModule], providers: [AccruedTodayService, AccruedTodayRepository], exports: [AccruedTodayService] })
export class BudgetFiguresModule {}
