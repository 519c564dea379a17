import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { Logger } from 'pino';
import { LOGGER } from '../../../core/tokens';
import { JobQueueService } from '../../../queue/job-queue.service';
import { BudgetDerivationService } from './budget-derivation.service';

/** How often an idle loop looks for owed derivations; a busy one goes on at once. Well inside the 60 s freshness target (5.5). */
const IDLE_MS = 1000;
/** Owed projects per pass. */
const BATCH = 100;

/**
 * The budget derivation loop (reports.md 6.1, 5.5): wherever the queue is
 * consumed (every worker; the API when REDIS_URL is unset), as the reports
 * loops run. Any number of processes may run it: derivations of one project
 * serialise on an advisory lock and are idempotent.
 */
@Injectable()
export class BudgetLoops implements OnModuleInit, OnModuleDestroy {
  private stopped = false;
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;

  constructor(
    private readonly jobs: JobQueueService,
    private readonly derivation: BudgetDerivationService,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  onModuleInit(): void {
    this.jobs.whenConsuming(() => void this.pass());
  }

  private async pass(): Promise<void> {
    if (this.stopped) return;
    let busy = false;
    const run = this.derivation.runOwed(BATCH).then(
      (n) => (busy = n >= BATCH),
      (error: unknown) => this.log.warn({ err: { message: (error as Error).message } }, 'budget derivation pass failed; retrying'),
    );
    this.running = run;
    await run;
    this.running = undefined;
    if (!this.stopped) this.timer = setTimeout(() => void this.pass(), busy ? 0 : IDLE_MS);
  }

  async onModuleDestroy(): Promise<void> {
    await this.stop();
  }

  /** Stops the loop for good, waiting for a running pass. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
