import { Module } from '@nestjs/common';
import { ChecksProcessingModule } from '../../checks/checks-processing.module';
import { ReportJobsProcessingModule } from '../../jobs/report-jobs.module';
import { ReportsProcessingModule } from '../../reports-processing.module';
import { RerateHandler } from './rerate.handler';
import { RerateRepository } from './rerate.repository';

/**
 * Running re-rates (reports.md 4.6): the `rerate` and `correction` kinds on
 * the job registry (worker process, and the API without Redis). The rating
 * engine itself lives in ReportsProcessingModule, where the drain calls it.
 */
@Module({
  imports: [ReportJobsProcessingModule, ReportsProcessingModule, ChecksProcessingModule],
  providers: [RerateRepository, RerateHandler],
  exports: [RerateRepository, ReportJobsProcessingModule, ReportsProcessingModule],
})
export class RatingEngineProcessingModule {}
