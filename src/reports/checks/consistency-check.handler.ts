import { Injectable, OnModuleInit } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { ChunkOutcome, JobContext, JobPlan, ReportJobRegistry } from '../jobs/report-job-registry';
import { addDays, daysBetween, minDay, monthsOf } from './check-window';
import { CellMismatch, compareDayCells } from './cell-compare';
import { ConsistencyCheckRepository, DayKey } from './consistency-check.repository';
import { RollupRepository } from '../rollups/rollup.repository';
import { MetricCountRow, OpsRepository } from '../ops/ops.repository';
import { RatingRepository } from '../rating/engine/rating.repository';
import { BudgetDebitsCheck, BudgetMismatch } from '../budgets/debits/budget-debits-check.service';
import { ThresholdCheck, ThresholdMismatch } from '../budgets/events/threshold-check.service';

export const CONSISTENCY_CHECK = 'consistency_check';

/** The scope of a consistency_check job, as stored in report_job.scope. */
export interface CheckScope {
  start: string;
  end: string;
  /** The window as local days [first_day, end_day) of time_zone. */
  first_day: string;
  end_day: string;
  time_zone: string;
  project_ids: string[] | null;
  sample: number | null;
  repair: boolean;
  rebuild: boolean;
  /** The booked day a nightly sampled check was scheduled for (only on those). */
  nightly_for?: string;
}

/** The options of a check beyond its window (reports.md 7.5). */
export interface CheckOptions {
  projectIds?: string[];
  sample?: number;
  repair?: boolean;
  rebuild?: boolean;
}

/** The stored scope of a check of the local days [first, end) whose start instants are `instants`. */
export function checkScope(first: string, end: string, instants: { start: string; end: string }, timeZone: string, options: CheckOptions): CheckScope {
  return {
    start: instants.start,
    end: instants.end,
    first_day: first,
    end_day: end,
    time_zone: timeZone,
    project_ids: options.projectIds ? [...new Set(options.projectIds)] : null,
    sample: options.sample ?? null,
    repair: options.repair ?? false,
    rebuild: options.rebuild ?? false,
  };
}

/**
 * Where the next chunk starts: in a grid of projects × days (project by
 * project, day by day), or in a list of sampled (project, day) pairs.
 */
export type CheckCursor =
  | { mode: 'grid'; projects: string[]; first: string; days: number; project: number; day: number; site: string }
  | { mode: 'pairs'; pairs: [string, string][]; next: number; site: string }
  | { mode: 'sums'; months: string[]; next: number; first: string; end: string; site: string };

export interface CheckResult {
  cells_checked: number;
  skipped_dirty: number;
  skipped_detached: number;
  mismatches: CellMismatch[];
  mismatch_count: number;
  /** With repair: keys marked dirty so far. */
  keys_repaired?: number;
}

export interface RebuildResult {
  keys_marked: number;
}

type Result = CheckResult | RebuildResult;

/** Project-days per chunk: one transaction's worth of recomputation. */
export const CHUNK_PROJECT_DAYS = 2000;
/** The result lists the first 1,000 mismatches (reports.md 7.5). */
export const MISMATCH_LIST_MAX = 1000;

/**
 * The consistency_check job kind (reports.md 7.5). Each chunk takes up to
 * 2,000 (project, day) pairs and, in one REPEATABLE READ snapshot, finds
 * their keys (a stored cell or raw history), skips those in D
 * (report_dirty_key and the days of undrained report_dirty_range rows),
 * recomputes the rest from raw through the rollup module and compares with
 * the stored cells (I1). A full check (no sample) then
 * compares, one month per chunk, the month cells and the site-day cells with
 * the sums of their day cells (I3). `repair` marks keys with an I1 mismatch
 * dirty; `rebuild` checks nothing and marks every key dirty. I1 holds only
 * for booked days (s(d+1) ≤ H), so a check stops before the booked day; a
 * rebuild includes that day (its today cell) and nothing later.
 */
@Injectable()
export class ConsistencyCheckHandler implements OnModuleInit {
  constructor(
    private readonly registry: ReportJobRegistry,
    private readonly checks: ConsistencyCheckRepository,
    private readonly rollups: RollupRepository,
    private readonly ops: OpsRepository,
    private readonly rating: RatingRepository,
    private readonly budgets: BudgetDebitsCheck,
    private readonly thresholds: ThresholdCheck,
  ) {}

  onModuleInit(): void {
    this.registry.register<CheckScope, CheckCursor, Result>(CONSISTENCY_CHECK, {
      isolation: (scope) => (scope.rebuild ? 'READ COMMITTED' : 'REPEATABLE READ'),
      plan: (job, sql) => this.plan(job, sql),
      chunk: (job, sql) => this.chunk(job, sql),
    });
  }

  async plan(job: JobContext<CheckScope, null, null>, sql: EntityManager): Promise<JobPlan<CheckCursor, Result>> {
    const scope = job.scope;
    const result: Result = scope.rebuild ? { keys_marked: 0 } : emptyCheck(scope.repair);
    await this.rollups.withoutJit(sql);
    const clock = await this.rollups.clock(sql);
    if (!clock) throw new Error('report_clock has no row yet: the reports module has not started');
    if (!scope.rebuild) {
      // I6's balance rows, once per check: the budgets whose period meets the window.
      const found = await this.budgets.balances(scope.start, scope.end, scope.project_ids, scope.repair, sql);
      // I7: the threshold events of the same budgets, once per check too.
      const events = await this.thresholds.check(scope.start, scope.end, scope.project_ids, scope.repair, sql);
      await this.ops.addMetricCounts(mismatchCounts({ I6: found.length, I7: events.length }), sql);
      addBudgetMismatches(result as CheckResult, [...found, ...events]);
    }
    const end = minDay(scope.end_day, scope.rebuild ? addDays(clock.booked_day, 1) : clock.booked_day);
    const days = end > scope.first_day ? daysBetween(scope.first_day, end) : 0;
    if (days === 0) return { total: 0, cursor: null, result };
    if (scope.sample !== null) {
      const pairs = await this.checks.samplePairs(scope.first_day, end, scope.time_zone, scope.project_ids, scope.sample, sql);
      return { total: pairs.length, cursor: pairs.length ? { mode: 'pairs', pairs, next: 0, site: clock.cloud_site } : null, result };
    }
    const projects = scope.project_ids ? [...new Set(scope.project_ids)].sort(byBytes) : await this.checks.projectsWithData(scope.first_day, end, scope.time_zone, sql);
    const total = projects.length * days;
    return { total, cursor: total ? { mode: 'grid', projects, first: scope.first_day, days, project: 0, day: 0, site: clock.cloud_site } : null, result };
  }

  async chunk(job: JobContext<CheckScope, CheckCursor, Result>, sql: EntityManager): Promise<ChunkOutcome<CheckCursor, Result>> {
    // As in the drain: the key relations' row estimates would make JIT compile for seconds.
    await this.rollups.withoutJit(sql);
    if (job.cursor.mode === 'sums') return this.sums(job.scope, job.cursor, job.result as CheckResult, sql);
    const { pairs, cursor: next } = nextPairs(job.cursor, CHUNK_PROJECT_DAYS);
    // A full check ends with the sums (I3) of the months it covered, one month per chunk.
    const cursor: CheckCursor | null =
      next === null && job.cursor.mode === 'grid' && !job.scope.rebuild
        ? { mode: 'sums', months: monthsOf(job.cursor.first, addDays(job.cursor.first, job.cursor.days)), next: 0, first: job.cursor.first, end: addDays(job.cursor.first, job.cursor.days), site: job.cursor.site }
        : next;
    const keys = await this.checks.keysOf(pairs, job.scope.time_zone, job.cursor.site, sql);
    if (job.scope.rebuild) {
      await this.rollups.markDirty(keys, sql);
      return { cursor, done: pairs.length, result: { keys_marked: (job.result as RebuildResult).keys_marked + keys.length } };
    }
    const previous = job.result as CheckResult;
    const dirty = new Set((await this.checks.dirtyAmong(keys, sql)).map(keyText));
    const clean = keys.filter((k) => !dirty.has(keyText(k)));
    const clock = (await this.rollups.clock(sql))!;
    const recomputed = await this.rollups.recomputeDayCells(clean, clock, sql);
    const stored = await this.rollups.storedDayCells(clean, sql);
    const { checked, mismatches } = compareDayCells(stored, recomputed);
    // I4: the live rated cells of the same keys against §4.5 applied to their usage cells and today's items.
    const rated = await this.rating.ratedMismatches(clean, sql);
    mismatches.push(
      ...rated.map((m): CellMismatch => ({
        invariant: 'I4',
        project_id: m.project_id,
        site: m.site,
        day: m.day,
        meter: m.meter,
        key: m.key,
        subkey: m.subkey,
        stored: m.stored ?? 'none',
        recomputed: m.recomputed ?? 'none',
        stored_items: null,
        recomputed_items: null,
        price_list_id: m.price_list_id,
      })),
    );
    // I6: the AMIE entries and accruals of the clean pairs (a dirty pair's accrual waits for the drain).
    const dirtyPairs = new Set(keys.filter((k) => dirty.has(keyText(k))).map((k) => JSON.stringify([k.project_id, k.day])));
    const budgetFound = await this.budgets.pairs(
      pairs.filter((p) => !dirtyPairs.has(JSON.stringify(p))),
      job.scope.repair,
      sql,
    );
    await this.ops.addMetricCounts(mismatchCounts({ I6: budgetFound.length }), sql);
    // ledger_rollup_mismatches_total (reports.md §9.1), in the chunk's transaction: counted once with its commit.
    await this.ops.addMetricCounts(mismatchCounts({ I1: mismatches.length - rated.length, I4: rated.length }), sql);
    const result: CheckResult = {
      cells_checked: previous.cells_checked + checked,
      skipped_dirty: previous.skipped_dirty + dirty.size,
      skipped_detached: previous.skipped_detached,
      mismatches: [...previous.mismatches, ...mismatches].slice(0, MISMATCH_LIST_MAX),
      mismatch_count: previous.mismatch_count + mismatches.length,
    };
    addBudgetMismatches(result, budgetFound);
    if (job.scope.repair) {
      const seen = new Set<string>();
      const toMark: DayKey[] = [];
      for (const m of mismatches) {
        const key = { project_id: m.project_id!, site: m.site, day: m.day };
        if (seen.has(keyText(key))) continue;
        seen.add(keyText(key));
        toMark.push(key);
      }
      await this.rollups.markDirty(toMark, sql);
      result.keys_repaired = (previous.keys_repaired ?? 0) + toMark.length;
    }
    return { cursor, done: pairs.length, result };
  }

  /**
   * I3 for one month of the window: its month cells against the sums of
   * their day cells, and (with no project filter: a site-day cell sums every
   * project) the site-day cells of its days in the window. No project-days
   * are counted: progress covers the I1 part.
   */
  private async sums(scope: CheckScope, cursor: Extract<CheckCursor, { mode: 'sums' }>, previous: CheckResult, sql: EntityManager): Promise<ChunkOutcome<CheckCursor, Result>> {
    const month = cursor.months[cursor.next];
    const room = Math.max(0, MISMATCH_LIST_MAX - previous.mismatches.length);
    const months = await this.checks.monthSums(month, scope.project_ids, room, sql);
    const found: CellMismatch[] = months.rows.map((row) => ({ invariant: 'I3', ...row, cell: 'month' }));
    let checked = months.checked;
    let differing = months.differing;
    if (scope.project_ids === null) {
      const days = await this.checks.siteDaySums(month < cursor.first ? cursor.first : month, minDay(nextMonth(month), cursor.end), Math.max(0, room - found.length), sql);
      found.push(...days.rows.map((row): CellMismatch => ({ invariant: 'I3', ...row, cell: 'site_day' })));
      checked += days.checked;
      differing += days.differing;
    }
    // I4's sums: rated month and site-day cells against their live rated day cells (counted; the rows are not listed).
    const ratedSums = await this.rating.ratedSumMismatches(month < cursor.first ? cursor.first : month, minDay(nextMonth(month), cursor.end), scope.project_ids, sql);
    await this.ops.addMetricCounts(mismatchCounts({ I3: differing, I4: ratedSums }), sql);
    differing += ratedSums;
    const result: CheckResult = {
      ...previous,
      cells_checked: previous.cells_checked + checked,
      mismatches: [...previous.mismatches, ...found].slice(0, MISMATCH_LIST_MAX),
      mismatch_count: previous.mismatch_count + differing,
    };
    if (scope.repair) {
      // The drain recomputes the month sums of every month it touches: one
      // dirty key of the month mends its month cell. A site-day sum moves by
      // delta and is left to the operator.
      const keys = [...new Set(found.filter((m) => m.cell === 'month').map((m) => `${m.project_id}\u0001${m.site}`))].map((pair) => {
        const [project_id, site] = pair.split('\u0001');
        return { project_id, site, day: month };
      });
      await this.rollups.markDirty(keys, sql);
      result.keys_repaired = (previous.keys_repaired ?? 0) + keys.length;
    }
    const next = cursor.next + 1;
    return { cursor: next < cursor.months.length ? { ...cursor, next } : null, done: 0, result };
  }
}

/**
 * ledger_rollup_mismatches_total (reports.md §9.1, 7.5) by invariant, for a
 * chunk's transaction (counted once, with its commit); invariants with no
 * mismatch add nothing.
 */
function mismatchCounts(found: Partial<Record<'I1' | 'I3' | 'I4' | 'I6' | 'I7', number>>): MetricCountRow[] {
  return Object.entries(found)
    .filter(([, value]) => value > 0)
    .map(([invariant, value]) => ({ metric: 'ledger_rollup_mismatches_total', labels: { invariant }, value }));
}

/** Adds I6 and I7 differences to a check's result (their repair, if any, is already posted). */
function addBudgetMismatches(result: CheckResult, found: (BudgetMismatch | ThresholdMismatch)[]): void {
  const rows = found.map(
    (m): CellMismatch => ({
      invariant: m.invariant,
      project_id: m.project_id,
      site: '',
      day: m.day,
      meter: '',
      key: '',
      subkey: '',
      stored: m.stored,
      recomputed: m.recomputed,
      stored_items: null,
      recomputed_items: null,
      entry: m.kind,
      budget_id: m.budget_id,
      ref: m.ref,
    }),
  );
  result.mismatches = [...result.mismatches, ...rows].slice(0, MISMATCH_LIST_MAX);
  result.mismatch_count += rows.length;
}

function nextMonth(month: string): string {
  const [y, m] = month.split('-').map(Number);
  return m === 12 ? `${String(y + 1).padStart(4, '0')}-01-01` : `${String(y).padStart(4, '0')}-${String(m + 1).padStart(2, '0')}-01`;
}

function emptyCheck(repair: boolean): CheckResult {
  return { cells_checked: 0, skipped_dirty: 0, skipped_detached: 0, mismatches: [], mismatch_count: 0, ...(repair ? { keys_repaired: 0 } : {}) };
}

const keyText = (k: DayKey) => JSON.stringify([k.project_id, k.site, k.day]);

function byBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** Up to `max` (project, day) pairs from the cursor, and the cursor after them (null at the end). */
export function nextPairs(cursor: Exclude<CheckCursor, { mode: 'sums' }>, max: number): { pairs: [string, string][]; cursor: CheckCursor | null } {
  if (cursor.mode === 'pairs') {
    const pairs = cursor.pairs.slice(cursor.next, cursor.next + max);
    const next = cursor.next + pairs.length;
    return { pairs, cursor: next < cursor.pairs.length ? { ...cursor, next } : null };
  }
  const pairs: [string, string][] = [];
  let { project, day } = cursor;
  while (pairs.length < max && project < cursor.projects.length) {
    pairs.push([cursor.projects[project], addDays(cursor.first, day)]);
    day++;
    if (day >= cursor.days) {
      day = 0;
      project++;
    }
  }
  return { pairs, cursor: project < cursor.projects.length ? { ...cursor, project, day } : null };
}
