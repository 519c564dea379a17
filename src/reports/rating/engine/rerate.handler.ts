import { Injectable, OnModuleInit } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { ConsistencyCheckRepository } from '../../checks/consistency-check.repository';
import { addDays, daysBetween, minDay } from '../../checks/check-window';
import { Exact } from '../../decimal';
import { ChunkOutcome, JobContext, JobPlan, ReportJobRegistry } from '../../jobs/report-job-registry';
import { PermanentJobError } from '../../jobs/report-job-runner.service';
import { RollupDrainer } from '../../rollups/rollup-drainer.service';
import { CellKey, RollupRepository } from '../../rollups/rollup.repository';
import { AdjustmentPoster } from '../periods/adjustment-poster.service';
import { BudgetAccruals } from '../../budgets/debits/budget-accruals.service';
import { RatingEngine } from './rating-engine.service';
import { RatingRepository } from './rating.repository';
import { RerateRepository } from './rerate.repository';

export const RERATE = 'rerate';
export const CORRECTION = 'correction';

/** The scope of a `rerate` or `correction` job (reports.md 4.6, 4.7), as the routes store it. */
export interface RerateScope {
  /** Day-aligned instants of the accounting zone. */
  start: string;
  end: string;
  project_ids: string[] | null;
  currencies: string[] | null;
  recompute_usage: boolean;
  /** A correction's list: only its currency is re-rated. */
  price_list_id?: string;
}

/**
 * Where the next chunk starts: the day index into [first_day, first_day +
 * days) and the index into the scope's projects (absent in cursors stored
 * before chunks spanned several days: 0).
 */
export interface RerateCursor {
  first_day: string;
  days: number;
  day: number;
  project?: number;
  projects: string[];
  /** The currencies rated (null: all). */
  currencies: string[] | null;
}

/**
 * The most (project, day) pairs one chunk locks and re-rates. Its advisory
 * locks live in PostgreSQL's shared lock table (max_locks_per_transaction ×
 * connections, 6,400 entries by default) beside the drain's and every other
 * session's; the chunk's work grows with it, and so does how long a drain
 * batch may wait for one of its pairs.
 */
export const CHUNK_PAIRS = 1000;

/**
 * The chunk at `cursor`: the window's days [day, end), up to the end of the
 * month `day` is in (fewer when `maxPairs` is smaller than that), times the
 * projects [from, to); at most `maxPairs` pairs. With the default, a month's
 * days of a project are re-rated by one chunk: its month sums move once, and
 * their item follows from the change without a rescan.
 */
export function chunkAt(cursor: RerateCursor, maxPairs = CHUNK_PAIRS): { end: number; from: number; to: number } {
  const day = addDays(cursor.first_day, cursor.day);
  const span = Math.min(cursor.days - cursor.day, daysBetween(day, nextMonth(day)), Math.max(1, maxPairs));
  const from = cursor.project ?? 0;
  return { end: cursor.day + span, from, to: Math.min(cursor.projects.length, from + Math.max(1, Math.floor(maxPairs / span))) };
}

export interface RerateResult {
  cells_changed: number;
  cells_superseded: number;
  adjustments_posted: number;
  cost_delta: Record<string, string>;
}

/**
 * The `rerate` and `correction` job kinds (reports.md 4.6, 4.7). `plan`
 * fixes the scope's booked days and its projects (those named, or every
 * project with a usage day cell in those days when the job starts):
 * total = days × projects. Each chunk is a rectangle of days of one month
 * times projects, CHUNK_PAIRS pairs at most (`chunkAt`): the (project, day)
 * advisory locks the drain also takes, with
 * `recompute_usage` the day cells rebuilt from raw first, then the rating
 * engine with the job's id as its run (changed cells of open periods are
 * superseded, never deleted) and the adjustment lines of closed periods
 * (cause `rerate` or `correction`). Resumable from its cursor; cancelled
 * between chunks by the runner.
 */
@Injectable()
export class RerateHandler implements OnModuleInit {
  /** The most (project, day) pairs of a chunk (CHUNK_PAIRS; a test makes chunks of one pair to reach a chunk boundary). */
  chunkPairs = CHUNK_PAIRS;

  constructor(
    private readonly registry: ReportJobRegistry,
    private readonly rerates: RerateRepository,
    private readonly rollups: RollupRepository,
    private readonly drainer: RollupDrainer,
    private readonly engine: RatingEngine,
    private readonly rating: RatingRepository,
    private readonly adjustments: AdjustmentPoster,
    private readonly checks: ConsistencyCheckRepository,
    private readonly accruals: BudgetAccruals,
  ) {}

  onModuleInit(): void {
    for (const kind of [RERATE, CORRECTION]) {
      this.registry.register<RerateScope, RerateCursor, RerateResult>(kind, {
        plan: (job, sql) => this.plan(job, sql),
        chunk: (job, sql) => this.chunk(job, sql),
      });
    }
  }

  async plan(job: JobContext<RerateScope, null, null>, sql: EntityManager): Promise<JobPlan<RerateCursor, RerateResult>> {
    const result: RerateResult = { cells_changed: 0, cells_superseded: 0, adjustments_posted: 0, cost_delta: {} };
    await this.rollups.withoutJit(sql);
    const clock = await this.rollups.clock(sql);
    if (!clock) throw new Error('report_clock has no row yet: the reports module has not started');
    const scope = job.scope;
    let currencies = scope.currencies && scope.currencies.length > 0 ? [...new Set(scope.currencies)].sort() : null;
    if (scope.price_list_id !== undefined) {
      const currency = await this.rating.listCurrency(scope.price_list_id, sql);
      if (currency === undefined) throw new PermanentJobError(`price list ${scope.price_list_id} does not exist`);
      currencies = currencies === null || currencies.includes(currency) ? [currency] : [];
    }
    const window = await this.rerates.daysOf(scope.start, scope.end, clock.time_zone, sql);
    // Rated cells exist for booked days only: the current day is rated at read time.
    const end = minDay(window.end_day, clock.booked_day);
    const days = end > window.first_day ? daysBetween(window.first_day, end) : 0;
    if (days === 0 || (currencies !== null && currencies.length === 0)) return { total: 0, cursor: null, result };
    const projects = scope.project_ids ? [...new Set(scope.project_ids)].sort(byBytes) : await this.rerates.projectsWithCells(window.first_day, end, sql);
    if (projects.length === 0) return { total: 0, cursor: null, result };
    return { total: days * projects.length, cursor: { first_day: window.first_day, days, day: 0, projects, currencies }, result };
  }

  async chunk(job: JobContext<RerateScope, RerateCursor, RerateResult>, sql: EntityManager): Promise<ChunkOutcome<RerateCursor, RerateResult>> {
    const cursor = job.cursor;
    const { end, from, to } = chunkAt(cursor, this.chunkPairs);
    const days = Array.from({ length: end - cursor.day }, (_, i) => addDays(cursor.first_day, cursor.day + i));
    const projects = cursor.projects.slice(from, to);
    await this.rollups.withoutJit(sql);
    const clock = await this.rollups.clock(sql);
    if (!clock) throw new Error('report_clock has no row yet: the reports module has not started');
    // The pairs' locks first (the drain takes the same ones), then the keys as they are under them.
    const pairs = projects.flatMap((project_id) => days.map((day) => ({ project_id, site: '', day })));
    await this.rollups.lockProjectDays(pairs, sql);
    const until = addDays(cursor.first_day, end);
    let keys: CellKey[];
    if (job.scope.recompute_usage) {
      const raw = await this.checks.keysOf(
        pairs.map((p) => [p.project_id, p.day] as [string, string]),
        clock.time_zone,
        clock.cloud_site,
        sql,
      );
      await this.drainer.recomputeBookedDays(raw, clock, sql);
      keys = mergeKeys(raw, await this.rerates.storedKeys(days[0], until, projects, sql));
    } else {
      keys = await this.rerates.storedKeys(days[0], until, projects, sql);
    }
    const outcome = await this.engine.rateKeys(keys, job.id, sql, { currencies: cursor.currencies });
    const posted = await this.adjustments.postFor(keys, job.kind === CORRECTION ? 'correction' : 'rerate', job.id, sql);
    // Budget accruals follow the re-rated SU cells (§6.2: accrual_adjustment of the difference).
    await this.accruals.postFor(keys, sql);
    const cost = { ...job.result.cost_delta };
    for (const [currency, delta] of Object.entries(outcome.costDelta)) cost[currency] = new Exact(cost[currency] ?? '0').plus(delta).toFixed(6);
    const result: RerateResult = {
      cells_changed: job.result.cells_changed + outcome.changed,
      cells_superseded: job.result.cells_superseded + outcome.superseded,
      adjustments_posted: job.result.adjustments_posted + posted,
      cost_delta: sortedKeys(cost),
    };
    const next: RerateCursor | null =
      to < cursor.projects.length ? { ...cursor, project: to } : end < cursor.days ? { ...cursor, day: end, project: 0 } : null;
    return { cursor: next, done: pairs.length, result };
  }
}

/** The first day of the month after `day`'s (`YYYY-MM-DD`). */
function nextMonth(day: string): string {
  const year = Number(day.slice(0, 4));
  const month = Number(day.slice(5, 7));
  return month === 12 ? `${year + 1}-01-01` : `${year}-${String(month + 1).padStart(2, '0')}-01`;
}

function byBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function mergeKeys(a: CellKey[], b: CellKey[]): CellKey[] {
  const seen = new Map<string, CellKey>();
  for (const k of [...a, ...b]) seen.set(`${k.project_id}\u0001${k.site}\u0001${k.day}`, k);
  return [...seen.values()];
}

function sortedKeys(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
