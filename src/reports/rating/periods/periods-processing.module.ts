import { Module } from '@nestjs/common';
import { ReportJobsProcessingModule } from '../../jobs/report-jobs.module';
import { ReportsProcessingModule } from '../../reports-processing.module';
import { AutoCloseService } from './auto-close.service';
import { ClosePeriodHandler } from './close-period.handler';
import { PeriodsService } from './periods.service';

/**
 * Closing periods, the processing side (worker, and the API without Redis):
 * the close_period job kind and the automatic close. The periods repository
 * and the AdjustmentPoster come with ReportsProcessingModule (the drain
 * posts adjustments).
 */
@Module({
  imports: [ReportJobsProcessingModule, ReportsProcessingModule],
  providers: [ClosePeriodHandler, PeriodsService, AutoCloseService],
  exports: [PeriodsService],
})
export class PeriodsProcessingModule {}
