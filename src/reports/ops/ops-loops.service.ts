import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { Logger } from 'pino';
import { AppConfig } from '../../config/app-config';
import { LOGGER } from '../../core/tokens';
import { QUEUE_NAME } from '../../queue/job-payloads';
import { JobQueueService } from '../../queue/job-queue.service';
import { OpsRepository } from './ops.repository';

/** Queue samples are taken in 15-second slots (reports.md §9.2) and kept 7 days. */
export const SAMPLE_EVERY_MS = 15_000;
export const SAMPLE_KEEP_DAYS = 7;
/** How often the collector's newest receipt is copied into report_source_seen. */
const RECEIPT_COPY_MS = 5_000;
const PRUNE_EVERY_MS = 3_600_000;

/**
 * The operations loops of §9 that run wherever the queue is consumed (every
 * worker; the API when REDIS_URL is unset): the queue sample of each
 * 15-second slot, the copy of the collector's newest receipt into
 * report_source_seen (`notifications`, site CLOUD_SITE, collector
 * NOTIFICATIONS_QUEUE), and the pruning of samples older than 7 days.
 */
@Injectable()
export class OpsLoops implements OnModuleInit, OnModuleDestroy {
  private readonly timers: NodeJS.Timeout[] = [];
  private running: Promise<unknown>[] = [];
  private stopped = false;
  private readonly log: Logger;

  constructor(
    private readonly jobs: JobQueueService,
    private readonly repository: OpsRepository,
    private readonly config: AppConfig,
    @Inject(LOGGER) log: Logger,
  ) {
    this.log = log.child({ component: 'ops' });
  }

  onModuleInit(): void {
    this.jobs.whenConsuming(() => this.start());
  }

  private start(): void {
    const every = (ms: number, run: () => Promise<void>) => {
      const tick = () => {
        if (this.stopped) return;
        const p = run().catch((error: unknown) => this.log.warn({ err: { message: (error as Error).message } }, 'ops loop failed; retrying'));
        this.running.push(p);
        void p.finally(() => (this.running = this.running.filter((r) => r !== p)));
      };
      tick();
      const timer = setInterval(tick, ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(SAMPLE_EVERY_MS, () => this.sample());
    every(RECEIPT_COPY_MS, () => this.copyReceipt());
    every(PRUNE_EVERY_MS, () => this.repository.pruneQueueSamples(SAMPLE_KEEP_DAYS));
  }

  /** Writes the queue's depth for the current 15-second slot. */
  async sample(now = Date.now()): Promise<void> {
    const depth = await this.jobs.depth();
    const slot = new Date(Math.floor(now / SAMPLE_EVERY_MS) * SAMPLE_EVERY_MS);
    await this.repository.addQueueSample(slot, QUEUE_NAME, depth);
  }

  async copyReceipt(): Promise<void> {
    await this.repository.copyNewestReceipt(this.config.cloudSite, this.config.notificationsQueue);
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    await Promise.allSettled(this.running);
  }
}
