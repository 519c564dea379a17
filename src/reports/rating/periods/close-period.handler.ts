import { Injectable, OnModuleInit } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { daysBetween } from '../../checks/check-window';
import { ChunkOutcome, JobContext, JobPlan, ReportJobRegistry } from '../../jobs/report-job-registry';
import { PermanentJobError } from '../../jobs/report-job-runner.service';
import { PeriodsRepository } from './periods.repository';

export const CLOSE_PERIOD = 'close_period';

/** The scope of a close_period job (report_job.scope). */
export interface CloseScope {
  /** `YYYY-MM`. */
  period: string;
  /** The period's first local day and the first day after it, `YYYY-MM-DD`. */
  month: string;
  next: string;
  time_zone: string;
}

/** Where the job is: waiting since `since` (an instant of the database's clock). */
export interface CloseCursor {
  since: string;
}

export interface CloseResult {
  /** Seconds the job waited for the period's pending cells. */
  waited_seconds: number;
  /** Dirty keys of the period when the snapshot was taken (they become late_data adjustments, 5.2). */
  pending_at_snapshot: number;
  /** Whether the snapshot was taken because the wait ran out. */
  timed_out: boolean;
  usage_cells_frozen: number;
  rated_cells_frozen: number;
}

/** The longest wait for a closing period's pending cells (reports.md 5.2: 10 minutes). */
export const CLOSE_WAIT_SECONDS = 600;
/** How long the job rests between two looks at the pending cells (no transaction is held meanwhile). */
export const CLOSE_POLL_MS = 1000;

/** The scope of closing `period` (`YYYY-MM`) in `zone`. */
export function closeScope(period: string, zone: string): CloseScope {
  const month = `${period}-01`;
  return { period, month, next: nextMonth(month), time_zone: zone };
}

/** The first day of the month after the one starting on `month` (`YYYY-MM-01`). */
export function nextMonth(month: string): string {
  const [y, m] = month.split('-').map(Number);
  return m === 12 ? `${String(y + 1).padStart(4, '0')}-01-01` : `${String(y).padStart(4, '0')}-${String(m + 1).padStart(2, '0')}-01`;
}

/**
 * The close_period job kind (reports.md 5.2, 4.7). The route (or the
 * automatic close) stored the period `closing` with this job. Each chunk is
 * one short transaction that looks whether the period still has dirty keys
 * (or an unbooked last day); while it has and the wait is under 10 minutes,
 * the job rests a second between chunks without holding a transaction, and
 * a cancel request stops it there (the period reads open again). Then one
 * chunk takes the period's month lock exclusively (the drain and re-rates
 * hold it shared while they post adjustments), copies every live usage and
 * rated day cell of the period's days into report_closed_cell and marks the
 * period closed. Keys still pending then are drained later and their
 * differences posted as late_data adjustment lines, so I5 holds either way.
 * `progress.total` counts the period's days, all done by the snapshot.
 */
@Injectable()
export class ClosePeriodHandler implements OnModuleInit {
  /** The wait of reports.md 5.2, in seconds (a test shortens it to see the snapshot taken anyway). */
  maxWaitSeconds = CLOSE_WAIT_SECONDS;

  constructor(
    private readonly registry: ReportJobRegistry,
    private readonly periods: PeriodsRepository,
  ) {}

  onModuleInit(): void {
    this.registry.register<CloseScope, CloseCursor, CloseResult>(CLOSE_PERIOD, {
      plan: (job, sql) => this.plan(job, sql),
      chunk: (job, sql) => this.chunk(job, sql),
    });
  }

  async plan(job: JobContext<CloseScope, null, null>, sql: EntityManager): Promise<JobPlan<CloseCursor, CloseResult>> {
    const period = await this.periods.find(job.scope.month, sql);
    if (!period || period.job_id !== job.id || period.state !== 'closing') {
      throw new PermanentJobError(`period ${job.scope.period} is not closing by this job (${period?.state ?? 'open'})`);
    }
    const result: CloseResult = { waited_seconds: 0, pending_at_snapshot: 0, timed_out: false, usage_cells_frozen: 0, rated_cells_frozen: 0 };
    return { total: daysBetween(job.scope.month, job.scope.next), cursor: { since: await this.periods.now(sql) }, result };
  }

  async chunk(job: JobContext<CloseScope, CloseCursor, CloseResult>, sql: EntityManager): Promise<ChunkOutcome<CloseCursor, CloseResult>> {
    const { month, next } = job.scope;
    const pending = await this.periods.pending(month, next, job.cursor.since, sql);
    const waiting = pending.dirty_keys > 0 || pending.unbooked;
    if (waiting && pending.waited_seconds < this.maxWaitSeconds) {
      return { cursor: job.cursor, done: 0, result: { ...job.result, waited_seconds: pending.waited_seconds }, pauseMs: CLOSE_POLL_MS };
    }
    // Whatever is recomputing cells of this month finishes first; later ones post adjustments against the snapshot.
    await this.periods.lockMonthExclusive(month, sql);
    const period = await this.periods.find(month, sql);
    if (!period || period.job_id !== job.id || period.state !== 'closing') {
      throw new PermanentJobError(`period ${job.scope.period} is not closing by this job (${period?.state ?? 'open'})`);
    }
    const at = await this.periods.pending(month, next, job.cursor.since, sql);
    const frozen = await this.periods.snapshot(month, next, sql);
    const result: CloseResult = {
      waited_seconds: at.waited_seconds,
      pending_at_snapshot: at.dirty_keys,
      timed_out: at.dirty_keys > 0 || at.unbooked,
      usage_cells_frozen: frozen.usage,
      rated_cells_frozen: frozen.rated,
    };
    return { cursor: null, done: daysBetween(month, next), result };
  }
}
