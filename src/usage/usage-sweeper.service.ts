import { Logger } from 'pino';
import { Injectable, Inject } from '@nestjs/common';
import { JobQueueService } from '../queue/job-queue.service';
import { PeriodicSweeper } from '../queue/periodic-sweeper';
import { LOGGER } from '../core/tokens';
import { UsageBatchRepository } from './usage-batch.repository';
import { UsageLoaderService } from './usage-loader.service';
import { batchJobId, UsageService } from './usage.service';

/**
 * "Nothing accepted is lost" (amie-usage.md 5.2, point 3): at API start-up
 * every pending batch, and then periodically every batch pending for a while,
 * is enqueued again unless its job still exists. That covers an enqueue lost
 * after the commit, a Redis restarted without its data, and, with REDIS_URL
 * unset, an API process that crashed with work in its in-process queue. A
 * batch whose job failed for good is marked failed. Repeats are harmless: the
 * jobId dedups in Redis and loading is idempotent.
 */
@Injectable()
export class UsageSweeperService extends PeriodicSweeper {
  constructor(
    private readonly batches: UsageBatchRepository,
    private readonly jobs: JobQueueService,
    private readonly usage: UsageService,
    private readonly loader: UsageLoaderService,
    @Inject(LOGGER) log: Logger,
  ) {
    super(log.child({ component: 'usage-sweeper' }));
  }

  /** Re-enqueues pending batches at least `minAgeSeconds` old; marks those whose job failed for good. */
  protected async sweepOnce(minAgeSeconds: number): Promise<void> {
    const ids = await this.batches.pendingIds(minAgeSeconds, 10000);
    let enqueued = 0;
    for (const id of ids) {
      const state = await this.jobs.jobState(batchJobId(id));
      if (state === 'missing') {
        await this.usage.enqueueBatch(id);
        enqueued++;
      } else if (state === 'failed') {
        await this.loader.failBatch(id, new Error('job failed after its last attempt'));
      }
    }
    if (enqueued) this.log.info({ enqueued }, 'pending usage batches enqueued again');
  }
}
