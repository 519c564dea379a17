import { Module } from '@nestjs/common';
import { ReportJobsProcessingModule } from '../jobs/report-jobs.module';
import { ConsistencyCheckController } from './consistency-check.controller';
import { ConsistencyCheckHandler } from './consistency-check.handler';
import { ConsistencyCheckRepository } from './consistency-check.repository';
import { ConsistencyCheckService } from './consistency-check.service';
import { DAY_CELL_SOURCE } from './day-cell-source';

/**
 * Running consistency checks: the `consistency_check` kind on the job
 * registry (worker process, and the API without Redis).
 */
@Module({
  imports: [ReportJobsProcessingModule],
  providers: [
    ConsistencyCheckRepository,
    ConsistencyCheckHandler,
    // TODO(merge): the rollup module's recomputation of day cells.
    { provide: DAY_CELL_SOURCE, useValue: { recompute: async () => [] } },
  ],
  exports: [ConsistencyCheckRepository, ReportJobsProcessingModule],
})
export class ChecksProcessingModule {}

/** `POST /admin/reports/consistency-checks`. */
@Module({
  imports: [ChecksProcessingModule],
  controllers: [ConsistencyCheckController],
  providers: [ConsistencyCheckService],
})
export class ChecksModule {}
