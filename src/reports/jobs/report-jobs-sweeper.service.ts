import { Inject, Injectable } from '@nestjs/common';
import { Logger } from 'pino';
import { LOGGER } from '../../core/tokens';
import { JobQueueService } from '../../queue/job-queue.service';
import { PeriodicSweeper } from '../../queue/periodic-sweeper';
import { ReportJobRepository } from './report-job.repository';
import { ReportJobsService } from './report-jobs.service';

/**
 * Report jobs are stored before they are queued (reports.md 4.7): a job
 * still `queued`, `running` or `cancelling` whose queue job is missing (Redis
 * lost it, the process died between commit and enqueue, an in-process queue
 * died with its process) is enqueued again and resumes from its cursor; one
 * whose queue job failed for good ends `failed`.
 */
@Injectable()
export class ReportJobsSweeperService extends PeriodicSweeper {
  constructor(
    private readonly jobs: ReportJobRepository,
    private readonly queue: JobQueueService,
    private readonly service: ReportJobsService,
    @Inject(LOGGER) log: Logger,
  ) {
    super(log.child({ component: 'report-jobs-sweeper' }));
  }

  protected async sweepOnce(minAgeSeconds: number): Promise<void> {
    let enqueued = 0;
    for (const id of await this.jobs.owedIds(minAgeSeconds, 1000)) {
      const state = await this.queue.jobState(id);
      if (state === 'missing') {
        await this.service.enqueue(id);
        enqueued++;
      } else if (state === 'failed') {
        await this.jobs.markFailed(id, 'job failed after its last attempt');
      }
    }
    if (enqueued) this.log.info({ enqueued }, 'report jobs enqueued again');
  }
}
