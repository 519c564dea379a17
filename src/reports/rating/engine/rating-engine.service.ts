import { Injectable } from '@nestjs/common';
import { Sql } from '../../../database/query-result';
import { Exact } from '../../decimal';
import { CellKey } from '../../rollups/rollup.repository';
import { RatingRepository } from './rating.repository';

/** The rating run of the rollup drain; a job's run is its id. */
export const INCREMENTAL_RUN = 'incremental';

/** What one `rateKeys` call changed. */
export interface RateOutcome {
  /** Rated cells whose live value changed: new, different, or gone. */
  changed: number;
  /** Live rated cells kept as superseded (job runs only). */
  superseded: number;
  /** Σ live cost after − before, per currency (exact decimal strings, six digits). */
  costDelta: Record<string, string>;
}

/** Which rated cells a call recomputes: every currency, or some; a correction names its list's currency. */
export interface RateOptions {
  currencies?: string[] | null;
}

/**
 * The rating engine (reports.md §4.5, §4.6, §7.2): recomputes the rated day
 * cells of booked (project, site, day) keys, for every list that applies, from
 * the current usage day cells and the live price items, set-based. A cell
 * equal to its recomputation changes nothing; a changed or vanished one is
 * replaced on the incremental path and kept with `superseded_by` = the job's
 * id on a job's run (never deleted); the rated month and site-day sums move by
 * the difference, in key order. The caller holds the keys' (project, day)
 * advisory locks and its transaction.
 */
@Injectable()
export class RatingEngine {
  constructor(private readonly rating: RatingRepository) {}

  async rateKeys(keys: CellKey[], run: string, sql: Sql, options: RateOptions = {}): Promise<RateOutcome> {
    const supersede = run !== INCREMENTAL_RUN;
    const { changed, retired, costDelta } = await this.rating.rate(keys, options.currencies ?? null, run, supersede, sql);
    const exact: Record<string, string> = {};
    for (const [currency, delta] of Object.entries(costDelta)) exact[currency] = new Exact(delta).toFixed(6);
    return { changed, superseded: supersede ? retired : 0, costDelta: exact };
  }
}
