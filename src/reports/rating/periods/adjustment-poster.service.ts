import { Injectable } from '@nestjs/common';
import { Sql } from '../../../database/query-result';
import { CellKey } from '../../rollups/rollup.repository';
import { PeriodsRepository } from './periods.repository';

/** Why an adjustment line was posted (reports.md 5.3). */
export type AdjustmentCause = 'late_data' | 'rerate' | 'correction' | 'flavor_change' | 'backfill';

/**
 * Adjustment lines (reports.md 5.3, invariant I5): after any recomputation of
 * the live usage and rated cells of `keys`, in the same transaction, posts
 * for every cell of a closed period the difference between the live figure
 * and frozen + Σ adjustments so far. Recomputed from current state, so a
 * repeated call posts nothing.
 *
 * Called by the rollup drainer (cause `late_data`) and by re-rate and
 * correction chunks (cause `rerate` / `correction`, with the job id).
 *
 * It first takes the month locks of the keys' months shared, held to the
 * caller's commit; the close job's snapshot takes its month's lock
 * exclusively. So a snapshot either sees the caller's recomputed cells (it
 * waited for the commit) or is committed before this call reads the period
 * as closed and its frozen cells: I5 holds whichever comes first.
 */
@Injectable()
export class AdjustmentPoster {
  constructor(private readonly periods: PeriodsRepository) {}

  /** Posts the lines; answers how many. */
  async postFor(keys: CellKey[], cause: AdjustmentCause, jobId: string | null, sql: Sql): Promise<number> {
    if (keys.length === 0) return 0;
    const monthOf = (k: CellKey) => `${k.day.slice(0, 7)}-01`;
    const months = keys.map(monthOf);
    await this.periods.lockMonthsShared(months, sql);
    // The usual case, no key in a closed period, costs one look at report_period.
    const closed = new Set(await this.periods.closedAmong(months, sql));
    if (closed.size === 0) return 0;
    return this.periods.postAdjustments(
      keys.filter((k) => closed.has(monthOf(k))),
      cause,
      jobId,
      sql,
    );
  }
}
