import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../config/app-config';
import { LOGGER } from '../../core/tokens';
import { newJobId } from '../jobs/job-id';
import { ReportJobRepository } from '../jobs/report-job.repository';
import { ReportJobsService } from '../jobs/report-jobs.service';
import { ReportsLoops } from '../rollups/reports-loops.service';
import { RollupRepository } from '../rollups/rollup.repository';
import { addDays } from './check-window';
import { checkScope, CONSISTENCY_CHECK } from './consistency-check.handler';
import { ConsistencyCheckRepository, NIGHTLY_CREATOR } from './consistency-check.repository';

/** The nightly check samples the booked days of this many days before the booked day. */
export const NIGHTLY_WINDOW_DAYS = 31;

/**
 * The nightly sampled consistency check (reports.md 7.5): once per local day,
 * after the day roll has caught up, a `consistency_check` job over
 * `CHECK_SAMPLE_PER_NIGHT` random project-days of the last 31 booked days
 * (the days a billing run reads and late data still changes; a window over the
 * whole history would make the sampling itself scan years of versions). It is
 * an ordinary job: listed by `GET /admin/reports/jobs` with `created_by`
 * `nightly`, resumable, cancellable. Any worker may schedule it, after every
 * day roll pass (one small transaction every 20 s); a transaction lock and the
 * stored job make it one per booked day.
 */
@Injectable()
export class NightlyCheckService implements OnModuleInit {
  constructor(
    private readonly config: AppConfig,
    private readonly loops: ReportsLoops,
    private readonly rollups: RollupRepository,
    private readonly checks: ConsistencyCheckRepository,
    private readonly jobRows: ReportJobRepository,
    private readonly jobs: ReportJobsService,
    private readonly db: DataSource,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  onModuleInit(): void {
    if (this.config.checkSamplePerNight > 0) this.loops.whenCaughtUp(async () => void (await this.schedule()));
  }

  /** Stores and queues tonight's check unless it is stored already; answers its id when this call stored it. */
  async schedule(): Promise<string | undefined> {
    const clock = await this.rollups.clock();
    if (!clock) return undefined;
    const bookedDay = clock.booked_day;
    const first = addDays(bookedDay, -NIGHTLY_WINDOW_DAYS);
    const id = await this.db.transaction(async (tx) => {
      if (await this.checks.nightlyScheduled(bookedDay, tx)) return undefined;
      const instants = await this.checks.dayStarts(first, bookedDay, clock.time_zone, tx);
      const scope = { ...checkScope(first, bookedDay, instants, clock.time_zone, { sample: this.config.checkSamplePerNight }), nightly_for: bookedDay };
      const row = await this.jobRows.insert({ id: newJobId(), kind: CONSISTENCY_CHECK, reason: 'nightly sampled check', createdBy: NIGHTLY_CREATOR, scope: { ...scope } }, tx);
      return row.id;
    });
    if (id === undefined) return undefined;
    // A lost enqueue is made good by the report jobs' sweeper.
    await this.jobs.enqueue(id);
    this.log.info({ job: id, bookedDay, sample: this.config.checkSamplePerNight }, 'reports: nightly sampled consistency check queued');
    return id;
  }
}
