import { Module } from '@nestjs/common';
import { QueueModule } from '../queue/queue.module';
import { ReportClockService } from './clock/report-clock.service';
import { OpsCountersModule } from './ops/ops-counters.module';
import { ReportsLoops } from './rollups/reports-loops.service';
import { RollupDrainer } from './rollups/rollup-drainer.service';
import { RollupRepository } from './rollups/rollup.repository';

/**
 * The reports' processing side (§7.2): the clock, the rollup drain and the day
 * roll. The worker imports it; the API imports it too, and its loops run
 * there only when the queue is in-process (REDIS_URL unset).
 */
@Module({
  imports: [QueueModule, OpsCountersModule],
  providers: [RollupRepository, RollupDrainer, ReportClockService, ReportsLoops],
  exports: [RollupRepository, RollupDrainer, ReportClockService, ReportsLoops],
})
export class ReportsProcessingModule {}
