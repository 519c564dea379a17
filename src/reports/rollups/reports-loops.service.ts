import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { LOGGER } from '../../core/tokens';
import { JobQueueService } from '../../queue/job-queue.service';
import { RollupDrainer } from './rollup-drainer.service';
import { RollupRepository } from './rollup.repository';

/** How often an idle drain loop looks for dirty keys; busy loops go on at once. */
const DRAIN_IDLE_MS = 1000;
/** How often the day roll looks whether the booked day has ended (§7.2: within 60 s of local midnight). */
const ROLL_EVERY_MS = 20_000;

/**
 * The reports loops of §7.2 that run wherever the queue is consumed (every
 * worker process; the API when REDIS_URL is unset): the dirty-key drain,
 * shared by any number of processes, and the day roll, one at a time under
 * the clock's row lock.
 */
@Injectable()
export class ReportsLoops implements OnModuleInit, OnModuleDestroy {
  private stopped = false;
  private drainTimer?: NodeJS.Timeout;
  private rollTimer?: NodeJS.Timeout;
  private running: Promise<unknown>[] = [];
  private readonly caughtUp: (() => Promise<void>)[] = [];

  constructor(
    private readonly jobs: JobQueueService,
    private readonly drainer: RollupDrainer,
    private readonly rollups: RollupRepository,
    private readonly db: DataSource,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  onModuleInit(): void {
    this.jobs.whenConsuming(() => this.start());
  }

  private start(): void {
    const drain = async () => {
      if (this.stopped) return;
      const run = this.drainer.tick(() => this.stopped);
      this.running.push(run);
      await run;
      this.running = this.running.filter((r) => r !== run);
      if (!this.stopped) this.drainTimer = setTimeout(() => void drain(), DRAIN_IDLE_MS);
    };
    const roll = async () => {
      if (this.stopped) return;
      const run = this.rollDays();
      this.running.push(run);
      await run;
      this.running = this.running.filter((r) => r !== run);
      if (!this.stopped) this.rollTimer = setTimeout(() => void roll(), ROLL_EVERY_MS);
    };
    void roll();
    void drain();
  }

  /**
   * Work to do once the booked day has caught up with today, after every day
   * roll pass that found nothing more to roll (the nightly sampled check).
   * A listener's failure is logged; the next pass calls it again.
   */
  whenCaughtUp(listener: () => Promise<void>): void {
    this.caughtUp.push(listener);
  }

  /** Rolls the booked day forward, one day per transaction, until it is today. */
  async rollDays(): Promise<void> {
    try {
      for (;;) {
        const day = await this.db.transaction((tx) => this.rollups.rollOneDay(tx));
        if (!day) break;
        this.log.info({ bookedDay: day }, `reports: day roll, booked day is now ${day}`);
      }
    } catch (error) {
      this.log.warn({ err: { message: (error as Error).message } }, 'reports day roll failed; retrying');
      return;
    }
    for (const listener of this.caughtUp) {
      if (this.stopped) return;
      await listener().catch((error: unknown) => this.log.warn({ err: { message: (error as Error).message } }, 'reports: work after the day roll failed; retrying'));
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.stop();
  }

  /** Stops both loops for good, waiting for a running pass (tests drain by hand after this). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.drainTimer);
    clearTimeout(this.rollTimer);
    await Promise.allSettled(this.running);
  }
}
