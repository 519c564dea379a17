import { Module } from '@nestjs/common';
import { QueueModule } from '../queue/queue.module';
import { ReportClockRepository } from './clock/report-clock.repository';
import { ReportClockService } from './clock/report-clock.service';
import { OpsCountersModule } from './ops/ops-counters.module';
import { PeriodsRepository } from './rating/periods/periods.repository';
import { ReportsLoops } from './rollups/reports-loops.service';
import { RollupDrainer } from './rollups/rollup-drainer.service';
import { RollupRepository } from './rollups/rollup.repository';
import { AdjustmentPoster } from './rating/periods/adjustment-poster.service';
import { RatingEngine } from './rating/engine/rating-engine.service';
import { RatingRepository } from './rating/engine/rating.repository';
import { BudgetDebitsModule } from './budgets/debits/budget-debits.module';

/**
 * The reports' processing side (§7.2): the clock, the rollup drain and the day
 * roll, with the rating engine the drain calls (and the adjustment poster). The worker imports it; the API imports it too, and its loops run
 * there only when the queue is in-process (REDIS_URL unset).
 */
@Module({
  imports: [QueueModule, OpsCountersModule, BudgetDebitsModule],
  providers: [RollupRepository, RollupDrainer, ReportClockRepository, ReportClockService, ReportsLoops, RatingRepository, RatingEngine, PeriodsRepository, AdjustmentPoster],
  exports: [RollupRepository, RollupDrainer, ReportClockService, ReportsLoops, RatingRepository, RatingEngine, PeriodsRepository, AdjustmentPoster, BudgetDebitsModule],
})
export class ReportsProcessingModule {}
