import { Inject, Injectable } from '@nestjs/common';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { LOGGER } from '../../core/tokens';
import { Exact } from '../decimal';
import { MetricCounts } from '../ops/metric-counts.service';
import { CellDelta, CellKey, DayCell, RollupRepository } from './rollup.repository';

/** Dirty keys taken per transaction (§7.2). */
export const DRAIN_BATCH = 500;

/**
 * Turns dirty keys into cells (reports.md §7.2): one transaction per batch
 * takes up to 500 keys with FOR UPDATE SKIP LOCKED (so several workers
 * share the load), takes the (project, day) advisory locks, recomputes the
 * day cells of booked days and the today cells of the booked day from raw
 * history, recomputes the month sums of the months it touched and applies
 * the differences to the site-day sums, and deletes the keys. Every step recomputes from current state, so a retried
 * or repeated batch changes nothing.
 */
/** Buckets of `ledger_rollup_batch_duration_seconds`, in seconds. */
export const ROLLUP_BATCH_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

@Injectable()
export class RollupDrainer {
  constructor(
    private readonly db: DataSource,
    private readonly rollups: RollupRepository,
    @Inject(LOGGER) private readonly log: Logger,
    private readonly counts: MetricCounts,
  ) {}

  /** Drains one batch; answers how many keys it handled (0: nothing was dirty, or all of it was taken). */
  async drainBatch(limit = DRAIN_BATCH): Promise<number> {
    const started = process.hrtime.bigint();
    const done = await this.drainBatchOnce(limit);
    // Worker throughput (reports.md §9.1): batches that handled keys, counted once committed.
    if (done > 0) {
      this.counts.add('ledger_rollup_batches_total', {});
      this.counts.observe('ledger_rollup_batch_duration_seconds', {}, ROLLUP_BATCH_BUCKETS, Number(process.hrtime.bigint() - started) / 1e9);
    }
    return done;
  }

  private async drainBatchOnce(limit: number): Promise<number> {
    return this.db.transaction(async (tx) => {
      await this.rollups.withoutJit(tx);
      const clock = await this.rollups.clock(tx);
      if (!clock) return 0;
      const keys = await this.rollups.takeDirtyKeys(limit, tx);
      if (keys.length === 0) return 0;
      keys.sort(compareKeys);
      await this.rollups.lockProjectDays(keys, tx);
      const booked = keys.filter((k) => k.day < clock.booked_day);
      const today = keys.filter((k) => k.day >= clock.booked_day);
      const old = await this.rollups.deleteDayCells(booked, tx);
      const fresh = await this.rollups.insertRecomputedDayCells(booked, clock, tx);
      await this.rollups.recomputeMonthCells(booked, tx);
      await this.rollups.applySiteDayDeltas(cellDeltas(old, fresh), tx);
      await this.rollups.deleteTodayCellsOf(booked, tx);
      await this.rollups.replaceTodayCells(today, clock, tx);
      await this.rollups.deleteDirtyKeys(keys, tx);
      return keys.length;
    });
  }

  /**
   * Drains until no dirty key is left, or until `stop()` says so (between
   * batches: a process shutting down during a backlog does not wait for all
   * of it); answers the keys handled.
   */
  async drainAll(stop: () => boolean = () => false): Promise<number> {
    let total = 0;
    while (!stop()) {
      const done = await this.drainBatch();
      if (done === 0) return total;
      total += done;
    }
    return total;
  }

  /** One tick of the loop: drains while there is work and `stop()` is false, logging a failure once per tick. */
  async tick(stop: () => boolean = () => false): Promise<number> {
    try {
      return await this.drainAll(stop);
    } catch (error) {
      this.log.warn({ err: { message: (error as Error).message } }, 'rollup drain failed; retrying');
      return 0;
    }
  }
}

function compareKeys(a: CellKey, b: CellKey): number {
  return a.project_id < b.project_id ? -1 : a.project_id > b.project_id ? 1 : a.site < b.site ? -1 : a.site > b.site ? 1 : a.day < b.day ? -1 : a.day > b.day ? 1 : 0;
}

/** new − old per cell, exactly, with the change in the number of cells; unchanged cells give nothing. */
export function cellDeltas(old: DayCell[], fresh: DayCell[]): CellDelta[] {
  const byKey = new Map<string, CellDelta & { q: Exact; scale: number }>();
  const add = (cell: DayCell, sign: 1 | -1) => {
    const id = [cell.project_id, cell.site, cell.day, cell.meter, cell.key, cell.subkey].join('\u0001');
    const entry = byKey.get(id) ?? { ...cell, quantity: '0', cells: 0, q: new Exact(0), scale: 0 };
    entry.q = sign === 1 ? entry.q.plus(cell.quantity) : entry.q.minus(cell.quantity);
    entry.scale = Math.max(entry.scale, scaleOf(cell.quantity));
    entry.cells += sign;
    byKey.set(id, entry);
  };
  for (const cell of old) add(cell, -1);
  for (const cell of fresh) add(cell, 1);
  const deltas: CellDelta[] = [];
  for (const { q, scale, ...entry } of byKey.values()) {
    if (q.isZero() && entry.cells === 0) continue;
    // The delta keeps the scale PostgreSQL gave the cells, so sums keep it too (six digits for time meters).
    deltas.push({ project_id: entry.project_id, site: entry.site, day: entry.day, meter: entry.meter, key: entry.key, subkey: entry.subkey, quantity: q.toFixed(scale), cells: entry.cells });
  }
  return deltas;
}

/** Fractional digits of a plain decimal string, trailing zeros included. */
function scaleOf(text: string): number {
  const point = text.indexOf('.');
  return point < 0 ? 0 : text.length - point - 1;
}
