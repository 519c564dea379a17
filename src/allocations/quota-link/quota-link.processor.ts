import { Injectable, OnModuleInit, Inject } from '@nestjs/common';
import { Logger } from 'pino';
import { JobQueueService } from '../../queue/job-queue.service';
import { LOGGER } from '../../core/tokens';
import { APPLY_QUOTAS_JOB, QuotaLinkService } from './quota-link.service';

/** Consumes `allocations.apply-quotas` jobs (BullMQ worker, or in-process without Redis). */
@Injectable()
export class QuotaLinkProcessor implements OnModuleInit {
  private readonly log: Logger;

  constructor(
    private readonly jobs: JobQueueService,
    private readonly link: QuotaLinkService,
    @Inject(LOGGER) log: Logger,
  ) {
    this.log = log.child({ component: 'allocation-quotas' });
  }

  onModuleInit(): void {
    this.jobs.handle(APPLY_QUOTAS_JOB, {
      process: ({ projectId }) => this.link.apply(projectId),
      // The recomputation stays owed (alloc_quota_recompute); the sweeper tries again with a new job.
      exhausted: async ({ projectId }, error) => {
        this.log.error({ projectId, err: { message: error.message } }, 'project limits could not be set; still owed');
      },
    });
  }
}
