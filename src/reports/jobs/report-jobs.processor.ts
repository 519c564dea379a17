import { Injectable, OnModuleInit } from '@nestjs/common';
import { JobQueueService } from '../../queue/job-queue.service';
import { ReportJobRepository } from './report-job.repository';
import { ReportJobRunner } from './report-job-runner.service';

/** Consumes `reports.run-job` (BullMQ worker, or in-process without Redis); after the last attempt the job ends failed with its error. */
@Injectable()
export class ReportJobsProcessor implements OnModuleInit {
  constructor(
    private readonly queue: JobQueueService,
    private readonly runner: ReportJobRunner,
    private readonly jobs: ReportJobRepository,
  ) {}

  onModuleInit(): void {
    this.queue.handle('reports.run-job', {
      process: ({ jobId }) => this.runner.run(jobId),
      exhausted: ({ jobId }, error) => this.jobs.markFailed(jobId, error.message || String(error)),
    });
  }
}
