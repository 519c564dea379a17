import { Sql } from '../../database/query-result';
import { DayCellRow, DayKey } from './consistency-check.repository';

/**
 * Where the checker gets day cells recomputed from raw history (I1 of
 * reports.md 7.4): the rollup module's own recomputation, so the check and
 * the worker can never disagree about the definition. Provided by the
 * checks processing module.
 */
export const DAY_CELL_SOURCE = Symbol('DAY_CELL_SOURCE');

export interface DayCellSource {
  recompute(keys: DayKey[], sql: Sql): Promise<DayCellRow[]>;
}
