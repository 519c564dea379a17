import { Module } from '@nestjs/common';
import { ReportJobsProcessingModule } from '../jobs/report-jobs.module';
import { ConsistencyCheckController } from './consistency-check.controller';
import { ConsistencyCheckHandler } from './consistency-check.handler';
import { ConsistencyCheckRepository } from './consistency-check.repository';
import { ConsistencyCheckService } from './consistency-check.service';
import { ReportsProcessingModule } from '../reports-processing.module';

/**
 * Running consistency checks: the `consistency_check` kind on the job
 * registry (worker process, and the API without Redis).
 */
@Module({
  imports: [ReportJobsProcessingModule, ReportsProcessingModule],
  providers: [ConsistencyCheckRepository, ConsistencyCheckHandler],
  exports: [ConsistencyCheckRepository, ReportJobsProcessingModule, ReportsProcessingModule],
})
export class ChecksProcessingModule {}

/** `POST /admin/reports/consistency-checks`. */
@Module({
  imports: [ChecksProcessingModule],
  controllers: [ConsistencyCheckController],
  providers: [ConsistencyCheckService],
})
export class ChecksModule {}
