import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { Logger } from 'pino';
import { AppConfig } from '../../config/app-config';
import { LOGGER } from '../../core/tokens';
import { JobQueueService } from '../../queue/job-queue.service';
import { HistoryPartitionsRepository } from './history-partitions.repository';

/** How often the partitions ahead are looked at (a month's is created weeks before it is needed). */
const EVERY_MS = 3_600_000;

/**
 * Keeps the Almanach history's monthly partitions ahead of time (reports.md
 * §7.3), wherever the queue is consumed (every worker; the API when
 * REDIS_URL is unset): at start and every hour, the partitions of last month
 * to three months ahead, and of any month with a row in the default
 * partition. Several processes may run it at once: creating a partition that
 * another process has just created is a no-op.
 */
@Injectable()
export class HistoryPartitionsLoop implements OnModuleInit, OnModuleDestroy {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private stopped = false;
  private readonly log: Logger;

  constructor(
    private readonly jobs: JobQueueService,
    private readonly partitions: HistoryPartitionsRepository,
    private readonly config: AppConfig,
    @Inject(LOGGER) log: Logger,
  ) {
    this.log = log.child({ component: 'almanach-partitions' });
  }

  onModuleInit(): void {
    this.jobs.whenConsuming(() => {
      const tick = () => {
        if (this.stopped || this.running) return;
        this.running = this.pass().finally(() => (this.running = undefined));
      };
      tick();
      this.timer = setInterval(tick, EVERY_MS);
      this.timer.unref();
    });
  }

  /** One pass; answers the partitions it created. A month that fails (a lock timeout) is tried again next pass. */
  async pass(): Promise<string[]> {
    const created: string[] = [];
    try {
      const zone = await this.partitions.zone(this.config.reportTimeZone);
      for (const month of await this.partitions.monthsDue(zone)) {
        if (this.stopped) break;
        try {
          const name = await this.partitions.ensureMonth(month, zone);
          if (name) created.push(name);
        } catch (error) {
          this.log.warn({ err: { message: (error as Error).message }, month }, 'almanach history partition not created; retrying next pass');
        }
      }
    } catch (error) {
      this.log.warn({ err: { message: (error as Error).message } }, 'almanach history partitions pass failed; retrying');
    }
    if (created.length > 0) this.log.info({ partitions: created }, `almanach history: created ${created.length} partition(s)`);
    return created;
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
