import { Module } from '@nestjs/common';
import { QueueModule } from '../../queue/queue.module';
import { ReportJobRegistry } from './report-job-registry';
import { ReportJobRepository } from './report-job.repository';
import { ReportJobRunner } from './report-job-runner.service';
import { ReportJobsProcessor } from './report-jobs.processor';
import { ReportJobsService } from './report-jobs.service';

/**
 * Running report jobs: the worker process's part (also run in the API
 * without Redis). Each kind's processing module imports this one and
 * registers its handler on ReportJobRegistry in onModuleInit.
 */
@Module({
  imports: [QueueModule],
  providers: [ReportJobRepository, ReportJobRegistry, ReportJobRunner, ReportJobsProcessor, ReportJobsService],
  exports: [ReportJobRepository, ReportJobRegistry, ReportJobsService, QueueModule],
})
export class ReportJobsProcessingModule {}
