import { Inject, Injectable } from '@nestjs/common';
import { Logger } from 'pino';
import { LOGGER } from '../../core/tokens';
import { PeriodicSweeper } from '../../queue/periodic-sweeper';
import { IdempotencyRepository } from './idempotency.repository';

const BATCH = 1000;

/**
 * Deletes expired Idempotency-Keys (reports.md 1.8, kept 24 hours) in the API
 * processes, which are the only writers of the table: at start-up, then every
 * 30 s, a thousand rows a statement. An expired key is also taken over on
 * insert, so pruning only keeps the table small.
 */
@Injectable()
export class IdempotencyPruner extends PeriodicSweeper {
  constructor(
    private readonly keys: IdempotencyRepository,
    @Inject(LOGGER) log: Logger,
  ) {
    super(log.child({ component: 'idempotency-pruner' }));
  }

  protected async sweepOnce(): Promise<void> {
    let pruned = 0;
    for (let n = BATCH; n === BATCH; pruned += n) n = await this.keys.prune(BATCH);
    if (pruned) this.log.info({ pruned }, 'expired idempotency keys deleted');
  }
}
