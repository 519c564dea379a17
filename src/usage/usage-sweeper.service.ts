import { Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { JobQueueService } from '../queue/job-queue.service';
import { Runtime } from '../runtime';
import { UsageLoaderService } from './usage-loader.service';
import { batchJobId, UsageService } from './usage.service';

const SWEEP_EVERY_MS = 30_000;
/** A pending batch younger than this is left to its own job. */
const SWEEP_MIN_AGE_S = 30;

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
export class UsageSweeperService implements OnApplicationBootstrap, OnModuleDestroy {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private readonly log: Logger;

  constructor(
    private readonly db: DataSource,
    private readonly jobs: JobQueueService,
    private readonly usage: UsageService,
    private readonly loader: UsageLoaderService,
    runtime: Runtime,
  ) {
    this.log = runtime.log.child({ component: 'usage-sweeper' });
  }

  onApplicationBootstrap(): void {
    this.running = this.sweep(0);
    this.timer = setInterval(() => {
      if (!this.running) this.running = this.sweep(SWEEP_MIN_AGE_S);
    }, SWEEP_EVERY_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Re-enqueues pending batches at least `minAgeSeconds` old; returns how many. */
  async sweep(minAgeSeconds: number): Promise<void> {
    try {
      const batches: { id: string }[] = await this.db.query(
        `SELECT id::text FROM amie_usage_batch WHERE state = 'pending' AND received_at <= now() - make_interval(secs => $1) ORDER BY id LIMIT 10000`,
        [minAgeSeconds],
      );
      let enqueued = 0;
      for (const { id } of batches) {
        const state = await this.jobs.jobState(batchJobId(id));
        if (state === 'missing') {
          await this.usage.enqueueBatch(id);
          enqueued++;
        } else if (state === 'failed') {
          await this.loader.failBatch(id, new Error('job failed after its last attempt'));
        }
      }
      if (enqueued) this.log.info({ enqueued }, 'pending usage batches enqueued again');
    } catch (error) {
      this.log.warn({ err: { message: (error as Error).message } }, 'usage sweep failed');
    } finally {
      this.running = undefined;
    }
  }
}
