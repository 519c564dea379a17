import { Inject, Injectable } from '@nestjs/common';
import { Logger } from 'pino';
import { LOGGER } from '../../core/tokens';
import { JobQueueService } from '../../queue/job-queue.service';
import { PeriodicSweeper } from '../../queue/periodic-sweeper';
import { PendingRecompute, QuotaLinkRepository } from './quota-link.repository';
import { applyJobId, QuotaLinkService } from './quota-link.service';

/**
 * Nothing owed is lost (docs/allocations.md §10): at API start-up every owed
 * recomputation, and then periodically every one owed for a while, is
 * enqueued again unless its job still exists. That covers a process that died
 * between the commit and the enqueue, a Redis restarted without its data, an
 * API that crashed with work in its in-process queue, and a job that failed
 * for good (it gets a new seq, hence a new job id).
 */
@Injectable()
export class QuotaLinkSweeperService extends PeriodicSweeper {
  constructor(
    private readonly repository: QuotaLinkRepository,
    private readonly jobs: JobQueueService,
    private readonly link: QuotaLinkService,
    @Inject(LOGGER) log: Logger,
  ) {
    super(log.child({ component: 'allocation-quotas-sweeper' }));
  }

  /** Enqueues again the owed recomputations at least `minAgeSeconds` old whose job is gone or failed. */
  protected async sweepOnce(minAgeSeconds: number): Promise<void> {
    const owed = await this.repository.owedOlderThan(minAgeSeconds);
    const again: PendingRecompute[] = [];
    for (const item of owed) {
      const state = await this.jobs.jobState(applyJobId(item.seq));
      if (state === 'missing') again.push(item);
      else if (state === 'failed') again.push(...(await this.repository.renew(item)));
    }
    await this.link.enqueue(again);
    if (again.length) this.log.info({ enqueued: again.length }, 'owed project limit recomputations enqueued again');
  }
}
