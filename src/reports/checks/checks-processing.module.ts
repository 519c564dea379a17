import { Module } from '@nestjs/common';
import { ReportJobsProcessingModule } from '../jobs/report-jobs.module';
import { ConsistencyCheckHandler } from './consistency-check.handler';
import { ConsistencyCheckRepository } from './consistency-check.repository';
import { ReportsProcessingModule } from '../reports-processing.module';
import { NightlyCheckService } from './nightly-check.service';
import { OpsCountersModule } from '../ops/ops-counters.module';
import { BudgetEventsProcessingModule } from '../budgets/events/budget-events.module';

/**
 * Running consistency checks: the `consistency_check` kind on the job
 * registry and the nightly sampled check (worker process, and the API
 * without Redis).
 */
@Module({
  imports: [ReportJobsProcessingModule, ReportsProcessingModule, OpsCountersModule, BudgetEventsProcessingModule],
  providers: [ConsistencyCheckRepository, ConsistencyCheckHandler, NightlyCheckService],
  exports: [ConsistencyCheckRepository, ReportJobsProcessingModule, ReportsProcessingModule],
})
export class ChecksProcessingModule {}
