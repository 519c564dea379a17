import { Logger } from 'pino';
import { Injectable, Inject } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { JobQueueService } from '../../queue/job-queue.service';
import { PeriodicSweeper } from '../../queue/periodic-sweeper';
import { LOGGER } from '../../core/tokens';
import { applyJobId, PendingRecompute, QuotaLinkService } from './quota-link.service';

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
    private readonly db: DataSource,
    private readonly jobs: JobQueueService,
    private readonly link: QuotaLinkService,
    @Inject(LOGGER) log: Logger,
  ) {
    super(log.child({ component: 'allocation-quotas-sweeper' }));
  }

  /** Enqueues again the owed recomputations at least `minAgeSeconds` old whose job is gone or failed. */
  protected async sweepOnce(minAgeSeconds: number): Promise<void> {
    const owed: PendingRecompute[] = await this.db.query(
      `SELECT "project_id" AS "projectId", "seq"::text AS "seq" FROM "alloc_quota_recompute"
       WHERE "requested_at" <= now() - make_interval(secs => $1) ORDER BY "requested_at" LIMIT 10000`,
      [minAgeSeconds],
    );
    const again: PendingRecompute[] = [];
    for (const item of owed) {
      const state = await this.jobs.jobState(applyJobId(item.seq));
      if (state === 'missing') {
        again.push(item);
      } else if (state === 'failed') {
        const renewed: PendingRecompute[] = await this.db.query(
          `WITH u AS (UPDATE "alloc_quota_recompute" SET "seq" = nextval('alloc_quota_recompute_seq'), "requested_at" = now()
             WHERE "project_id" = $1 AND "seq" = $2 RETURNING "project_id", "seq")
           SELECT "project_id" AS "projectId", "seq"::text AS "seq" FROM u`,
          [item.projectId, item.seq],
        );
        again.push(...renewed);
      }
    }
    await this.link.enqueue(again);
    if (again.length) this.log.info({ enqueued: again.length }, 'owed project limit recomputations enqueued again');
  }
}
