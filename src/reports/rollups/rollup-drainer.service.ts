import { Inject, Injectable } from '@nestjs/common';
import { Logger } from 'pino';
import { DataSource, EntityManager } from 'typeorm';
import { AppConfig } from '../../config/app-config';
import { LOGGER } from '../../core/tokens';
import { Exact } from '../decimal';
import { MetricCounts } from '../ops/metric-counts.service';
import { AdjustmentPoster } from '../rating/periods/adjustment-poster.service';
import { INCREMENTAL_RUN, RatingEngine } from '../rating/engine/rating-engine.service';
import { BudgetAccruals } from '../budgets/debits/budget-accruals.service';
import { CellDelta, CellKey, ClaimPosition, ClockRow, DayCell, RollupRepository, TodaySettle } from './rollup.repository';
import { SECOND_METERS } from '../usage/units';

/** Dirty keys taken per transaction (§7.2). */
export const DRAIN_BATCH = 500;

/** Days of dirty ranges turned into keys per transaction (§7.2, issue 9). */
export const RANGE_CHUNK_DAYS = 500;

/**
 * How long a process claims onward from where its last claim ended before it
 * starts from the oldest key again (it also does when a claim reaches the
 * end, or a batch fails). Keys passed over (held by another worker then, or
 * written by a transaction that began before the position's key and committed
 * after) are taken at the next start from the oldest: within this long, or
 * after one pass over the backlog.
 */
export const CLAIM_RESTART_MS = 30_000;

/**
 * How long the drain loop lets today's keys settle, as a multiple of its
 * last recomputation of today cells, and at most: a today cell is
 * recomputed from the whole day's history of its project (§7.2), so under
 * sustained ingest a loop that drained each key as soon as it was dirtied
 * again spent a core on it (2.6 s per batch of 20 projects holding 220,000
 * AMIE records of the day, bench/usage.bench.ts), recomputing what the next
 * write would change again. With a factor of 3 the loop gives today cells at
 * most about a quarter of its time; a write is visible within the settle,
 * one recomputation and the loop's idle second (4× a recomputation and a
 * second; 30 s and a recomputation at most), inside the 60 s freshness
 * target (§5.5) while a recomputation takes under 15 s. Keys of booked days
 * (late data) and calls outside the loop (jobs, tests) do not wait.
 */
export const TODAY_SETTLE_FACTOR = 3;
export const TODAY_SETTLE_MAX_MS = 30_000;

/** The settle of today's keys after a recomputation of today cells that took `ms` (TODAY_SETTLE_FACTOR). */
export function todaySettleMs(ms: number): number {
  return Math.min(TODAY_SETTLE_MAX_MS, Math.round(TODAY_SETTLE_FACTOR * ms));
}

/**
 * Turns dirty keys into cells (reports.md §7.2): one transaction per batch
 * takes up to 500 keys with FOR UPDATE SKIP LOCKED (so several workers
 * share the load), takes the (project, day) advisory locks, recomputes the
 * day cells of booked days and the today cells of the booked day from raw
 * history, recomputes the month sums of the months it touched and applies
 * the differences to the site-day sums, re-rates the booked keys (the rating
 * engine, §4.5), posts adjustment lines for closed periods (§5.3) and the
 * budget accruals of booked days (§6.2), and deletes the keys. Every step recomputes from current state, so a retried
 * or repeated batch changes nothing.
 */
/** Buckets of `ledger_rollup_batch_duration_seconds`, in seconds. */
export const ROLLUP_BATCH_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

@Injectable()
export class RollupDrainer {
  /** Keys drained by this process's loop since its last VACUUM of report_dirty_key (afterDrained). */
  private drainedSinceVacuum = 0;

  constructor(
    private readonly config: AppConfig,
    private readonly db: DataSource,
    private readonly rollups: RollupRepository,
    @Inject(LOGGER) private readonly log: Logger,
    private readonly counts: MetricCounts,
    private readonly rating: RatingEngine,
    private readonly adjustments: AdjustmentPoster,
    private readonly accruals: BudgetAccruals,
  ) {}

  /** Where this process's last claim ended, and when it started from the oldest key (`takeDirtyKeys`). */
  private claim: { after: ClaimPosition | null; since: number } = { after: null, since: 0 };

  /** How long this process's last recomputation of today cells took, in ms (todaySettleMs). */
  private lastTodayMs = 0;

  /**
   * Drains one batch; answers how many keys it handled (0: nothing was dirty,
   * or all of it was taken). Keys of the booked day dirtied less than
   * `settleMs` ago are left for a later batch (the loop's ticks pass
   * todaySettleMs of this process's last recomputation of today cells).
   */
  async drainBatch(limit = DRAIN_BATCH, settleMs = 0): Promise<number> {
    const started = process.hrtime.bigint();
    const done = await this.drainBatchOnce(limit, settleMs);
    // Worker throughput (reports.md §9.1): batches that handled keys, counted once committed.
    if (done > 0) {
      this.counts.add('ledger_rollup_batches_total', {});
      this.counts.observe('ledger_rollup_batch_duration_seconds', {}, ROLLUP_BATCH_BUCKETS, Number(process.hrtime.bigint() - started) / 1e9);
    }
    return done;
  }

  private async drainBatchOnce(limit: number, settleMs: number): Promise<number> {
    try {
      return await this.drainBatchTransaction(limit, settleMs);
    } catch (error) {
      this.claim = { after: null, since: 0 };
      throw error;
    }
  }

  private async drainBatchTransaction(limit: number, settleMs: number): Promise<number> {
    return this.db.transaction(async (tx) => {
      await this.rollups.withoutJit(tx);
      const clock = await this.rollups.clock(tx);
      if (!clock) return 0;
      const keys = await this.takeKeys(limit, tx, { bookedDay: clock.booked_day, ms: settleMs });
      if (keys.length === 0) return 0;
      keys.sort(compareKeys);
      await this.rollups.lockProjectDays(keys, tx);
      const booked = keys.filter((k) => k.day < clock.booked_day);
      const today = keys.filter((k) => k.day >= clock.booked_day);
      await this.recomputeBookedDays(booked, clock, tx);
      // Rated cells of every applicable list follow their day cells (§7.2), then adjustment lines of closed periods (§5.3).
      await this.rating.rateKeys(booked, INCREMENTAL_RUN, tx);
      await this.adjustments.postFor(booked, 'late_data', null, tx);
      // Budget accruals of the booked days follow their SU rated cells (§6.2, §7.2).
      await this.accruals.postFor(booked, tx);
      await this.rollups.deleteTodayCellsOf(booked, tx);
      if (today.length > 0) {
        const todayStarted = process.hrtime.bigint();
        await this.rollups.replaceTodayCells(today, clock, tx);
        this.lastTodayMs = Number(process.hrtime.bigint() - todayStarted) / 1e6;
      }
      await this.rollups.deleteDirtyKeys(keys, tx);
      return keys.length;
    });
  }

  /**
   * The next batch's keys: onward from where the last claim ended, or from the
   * oldest key when there is no such place or it is older than
   * CLAIM_RESTART_MS. A claim that gives fewer than `limit` keys has reached
   * the end: the next starts from the oldest, as does the next after a batch
   * that failed (`drainBatchOnce`); one that gives none starts from the oldest
   * at once, so 0 still means nothing is dirty (or all of it is held).
   */
  private async takeKeys(limit: number, tx: EntityManager, settle: TodaySettle): Promise<CellKey[]> {
    const now = Date.now();
    if (now - this.claim.since > CLAIM_RESTART_MS) this.claim = { after: null, since: now };
    let taken = await this.rollups.takeDirtyKeys(limit, tx, this.claim.after, settle);
    // Nothing after the position is not nothing dirty: keys passed over may be behind it (a drain loop stops on 0).
    if (taken.keys.length === 0 && this.claim.after) taken = await this.rollups.takeDirtyKeys(limit, tx, null, settle);
    this.claim = taken.keys.length < limit ? { after: null, since: now } : { after: taken.last, since: this.claim.since };
    return taken.keys;
  }

  /**
   * Recomputes the day cells of booked-day `keys` from raw history, their
   * month sums and the site-day sums by difference (§7.2). The caller holds
   * the keys' (project, day) locks; re-rate jobs with `recompute_usage` call
   * it too.
   */
  async recomputeBookedDays(booked: CellKey[], clock: ClockRow, tx: EntityManager): Promise<void> {
    const old = await this.rollups.deleteDayCells(booked, tx);
    const fresh = await this.rollups.insertRecomputedDayCells(booked, clock, tx);
    await this.rollups.recomputeMonthCells(booked, tx);
    await this.rollups.applySiteDayDeltas(cellDeltas(old, fresh), tx);
  }

  /**
   * Turns up to `maxDays` days of the oldest dirty ranges into dirty keys,
   * in one transaction of its own (report_dirty_range_expand: ranges taken
   * FOR UPDATE SKIP LOCKED, keys marked with the writers' protocol, ranges
   * shrunk or deleted in the same commit); answers the days expanded (0:
   * no range, or every range is taken by another worker). A failure or a
   * dead worker rolls the chunk back: the range is left as it was.
   */
  async expandRanges(maxDays = RANGE_CHUNK_DAYS): Promise<number> {
    return this.db.transaction(async (tx) => {
      await this.rollups.withoutJit(tx);
      return this.rollups.expandDirtyRanges(maxDays, tx);
    });
  }

  /**
   * Drains until no dirty key or range is left, or until `stop()` says so
   * (between batches: a process shutting down during a backlog does not
   * wait for all of it); answers the keys handled. Each round expands one
   * chunk of ranges, then drains one batch of keys, so a long back-dated
   * range and fresh writes share the worker. A failed expansion is logged
   * and left for the next tick (its chunk rolled back); the keys drain on.
   * `settleMs()` is each batch's settle of today's keys (drainBatch).
   */
  async drainAll(stop: () => boolean = () => false, settleMs: () => number = () => 0): Promise<number> {
    let total = 0;
    let expanding = true;
    while (!stop()) {
      const expanded = expanding ? await this.expandRanges().catch((error: unknown) => this.expansionFailed(error)) : 0;
      if (expanded < 0) expanding = false;
      const done = await this.drainBatch(DRAIN_BATCH, settleMs());
      if (done === 0 && expanded <= 0) return total;
      total += done;
    }
    return total;
  }

  /** Logs a failed expansion; answers -1 (no more expansion this tick). */
  private expansionFailed(error: unknown): number {
    this.log.warn({ err: { message: (error as Error).message } }, 'dirty range expansion failed; retrying');
    return -1;
  }

  /**
   * One tick of the loop: drains while there is work and `stop()` is false,
   * letting today's keys settle (todaySettleMs), logging a failure once per
   * tick.
   */
  async tick(stop: () => boolean = () => false): Promise<number> {
    let drained: number;
    try {
      drained = await this.drainAll(stop, () => todaySettleMs(this.lastTodayMs));
    } catch (error) {
      this.log.warn({ err: { message: (error as Error).message } }, 'rollup drain failed; retrying');
      return 0;
    }
    await this.afterDrained(drained);
    return drained;
  }

  /**
   * At the end of a loop pass (`tick`, which drains until no key is left):
   * once this process has drained ROLLUP_VACUUM_AFTER_KEYS keys since its
   * last one, a VACUUM of report_dirty_key (RollupRepository.vacuumDirtyKeys:
   * why). Autovacuum does the same when it runs; this keeps a machine with
   * autovacuum off, or one between two of its runs after a build or a
   * backfill, from reading the dead rows of every key drained. A failure is
   * logged and tried again after as many keys more. Public for drains run
   * outside the loop (the reports bench's build lanes).
   */
  async afterDrained(drained: number): Promise<void> {
    const every = this.config.rollupVacuumAfterKeys;
    if (every === 0) return;
    this.drainedSinceVacuum += drained;
    if (this.drainedSinceVacuum < every) return;
    const keys = this.drainedSinceVacuum;
    this.drainedSinceVacuum = 0;
    const started = Date.now();
    try {
      await this.rollups.vacuumDirtyKeys();
      this.log.info({ keys, ms: Date.now() - started }, `reports: vacuumed report_dirty_key after ${keys} drained keys`);
    } catch (error) {
      this.log.warn({ err: { message: (error as Error).message } }, 'reports: VACUUM of report_dirty_key failed; tried again later');
    }
  }
}

function compareKeys(a: CellKey, b: CellKey): number {
  return a.project_id < b.project_id ? -1 : a.project_id > b.project_id ? 1 : a.site < b.site ? -1 : a.site > b.site ? 1 : a.day < b.day ? -1 : a.day > b.day ? 1 : 0;
}

/**
 * new − old per cell, exactly, with the change in the number of cells;
 * unchanged cells give nothing. A charge (a meter not in seconds, written
 * with the scale `numeric` gives its sum, §1.4) whose scale grew gives a zero
 * of the new scale, which the sum takes on; one whose scale fell, or that
 * went away, is marked `rescale`: the site-day sum may keep a scale no cell
 * has any more (`applySiteDayDeltas` recomputes it).
 *
 * Cells are unique per key on each side (the day cells' primary key; the
 * recomputation groups by it). A cell on one side only is its own delta, a
 * cell whose text did not change gives nothing: only a changed cell is
 * subtracted as a decimal. A first build (every cell new) and a drain that
 * finds what it had (most cells unchanged) then do no decimal arithmetic,
 * which cost 12 µs a cell (80 ms of a 500-key batch of 7,000 cells, as much
 * as the batch's recomputation in PostgreSQL).
 */
export function cellDeltas(old: DayCell[], fresh: DayCell[]): CellDelta[] {
  const before = new Map<string, DayCell>();
  for (const cell of old) before.set(cellId(cell), cell);
  const deltas: CellDelta[] = [];
  for (const cell of fresh) {
    const id = cellId(cell);
    const was = before.get(id);
    if (was === undefined) {
      deltas.push(deltaOf(cell, cell.quantity, 1, false));
      continue;
    }
    before.delete(id);
    if (was.quantity === cell.quantity) continue;
    const written = !SECOND_METERS.includes(cell.meter);
    const oldScale = scaleOf(was.quantity);
    const freshScale = scaleOf(cell.quantity);
    const q = new Exact(cell.quantity).minus(was.quantity);
    const rescale = written && oldScale > freshScale;
    if (q.isZero() && !rescale && !(written && freshScale > oldScale)) continue;
    // The delta keeps the scale PostgreSQL gave the cells, so sums keep it too (six digits for time meters).
    deltas.push(deltaOf(cell, q.toFixed(Math.max(oldScale, freshScale)), 0, rescale));
  }
  for (const cell of before.values()) {
    const written = !SECOND_METERS.includes(cell.meter);
    deltas.push(deltaOf(cell, negated(cell.quantity), -1, written && scaleOf(cell.quantity) > 0));
  }
  return deltas;
}

function cellId(cell: DayCell): string {
  return `${cell.project_id}\u0001${cell.site}\u0001${cell.day}\u0001${cell.meter}\u0001${cell.key}\u0001${cell.subkey}`;
}

function deltaOf(cell: DayCell, quantity: string, cells: number, rescale: boolean): CellDelta {
  return { project_id: cell.project_id, site: cell.site, day: cell.day, meter: cell.meter, key: cell.key, subkey: cell.subkey, quantity, cells, rescale };
}

/** −x of a plain decimal string, at its scale (PostgreSQL reads `-0.00` as zero). */
function negated(text: string): string {
  return text.startsWith('-') ? text.slice(1) : `-${text}`;
}

/** Fractional digits of a plain decimal string, trailing zeros included. */
function scaleOf(text: string): number {
  const point = text.indexOf('.');
  return point < 0 ? 0 : text.length - point - 1;
}
