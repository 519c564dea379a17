import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { LOGGER } from '../../../core/tokens';
import { JobQueueService } from '../../../queue/job-queue.service';
import { HoldTransitions } from './hold-transitions.service';
import { HoldsRepository } from './holds.repository';

/** How often the loop looks for holds past their expiry: well inside the contract's 60 s (reports.md 6.4). */
export const EXPIRE_EVERY_MS = 5_000;
/** Holds expired per pass before looking again at once. */
const BATCH = 500;

/**
 * The expiry of holds (reports.md 6.4): wherever the queue is consumed
 * (every worker; the API when REDIS_URL is unset), every 5 s, each hold
 * still `held` at its `expires_at` is released as `hold_expire` by
 * `system`. Any number of processes may run it: each hold is expired under
 * its budget's row lock and re-checked there, so it expires once, and a
 * settle racing the loop wins or loses cleanly.
 */
@Injectable()
export class HoldExpiryLoop implements OnModuleInit, OnModuleDestroy {
  private stopped = false;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private readonly log: Logger;

  constructor(
    private readonly jobs: JobQueueService,
    private readonly holds: HoldsRepository,
    private readonly transitions: HoldTransitions,
    private readonly db: DataSource,
    @Inject(LOGGER) log: Logger,
  ) {
    this.log = log.child({ component: 'hold-expiry' });
  }

  onModuleInit(): void {
    this.jobs.whenConsuming(() => this.start());
  }

  private start(): void {
    const tick = () => {
      if (this.stopped || this.running) return;
      this.running = this.expireDue()
        .then((n) => void (n > 0 && this.log.info({ expired: n }, 'holds expired')))
        .catch((error: unknown) => this.log.warn({ err: { message: (error as Error).message } }, 'hold expiry failed; retrying'))
        .finally(() => (this.running = undefined));
    };
    tick();
    this.timer = setInterval(tick, EXPIRE_EVERY_MS);
    this.timer.unref();
  }

  /** Expires every hold now due; answers how many this pass expired. */
  async expireDue(): Promise<number> {
    let expired = 0;
    for (;;) {
      const due = await this.holds.due(this.db, BATCH);
      for (const hold of due) {
        if (this.stopped) return expired;
        if (await this.transitions.expire(hold.id, hold.budgetId)) expired++;
      }
      if (due.length < BATCH) return expired;
    }
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }
}
