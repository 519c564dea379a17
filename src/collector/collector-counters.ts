import { Inject, Injectable } from '@nestjs/common';
import { Logger } from 'pino';
import { LOGGER } from '../core/tokens';
import { CollectorRepository, OutcomeCount } from './collector.repository';

export type CountedOutcome = 'processed' | 'duplicate' | 'ignored' | 'dead_lettered' | 'retried';

/**
 * `ledger_notifications_total{event_type, outcome}` (collector.md 6): counted
 * in memory and added to `notification_counts` at most every 5 s and when
 * the collector stops, so `/metrics` sums every collector across restarts.
 */
@Injectable()
export class CollectorCounters {
  private pending = new Map<string, OutcomeCount>();
  private readonly log: Logger;

  constructor(
    private readonly repository: CollectorRepository,
    @Inject(LOGGER) log: Logger,
  ) {
    this.log = log.child({ component: 'collector' });
  }

  add(eventType: string, outcome: CountedOutcome, count = 1): void {
    const key = `${eventType}\u0000${outcome}`;
    const entry = this.pending.get(key);
    if (entry) entry.count += count;
    else this.pending.set(key, { eventType, outcome, count });
  }

  /** Writes what was counted since the last flush; kept for the next one when the database fails. */
  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    try {
      await this.repository.addCounts(batch);
    } catch (error) {
      for (const c of batch) this.add(c.eventType, c.outcome as CountedOutcome, c.count);
      this.log.warn({ err: { message: (error as Error).message } }, 'collector: counts not written, kept for the next flush');
    }
  }
}
