import { Inject, Injectable } from '@nestjs/common';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { LOGGER } from '../../../core/tokens';
import { DomainError } from '../../../http/domain-error';
import { JobView } from '../../jobs/dto/jobs.views';
import { ReportJobsService } from '../../jobs/report-jobs.service';
import { RollupRepository } from '../../rollups/rollup.repository';
import { CLOSE_PERIOD, closeScope } from './close-period.handler';
import { PeriodsError } from './periods.errors';
import { PeriodsRepository } from './periods.repository';

/** Who closes periods automatically (reports.md 4.7: jobs the service starts itself). */
export const SYSTEM_CREATOR = 'system';

/**
 * Closing periods (reports.md 5.2): the route and the automatic close store
 * the period `closing` and its close_period job in one transaction, under a
 * lock that serialises every change of a period's state, and queue the job
 * after the commit.
 */
@Injectable()
export class PeriodsService {
  constructor(
    private readonly db: DataSource,
    private readonly periods: PeriodsRepository,
    private readonly rollups: RollupRepository,
    private readonly jobs: ReportJobsService,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  /** `POST /admin/reports/periods/{period}/close`: 409 when the period has not ended or is closing or closed. */
  async close(period: string, createdBy: string): Promise<JobView> {
    const job = await this.db.transaction(async (tx) => {
      await this.periods.lockPeriods(tx);
      const zone = await this.zone(tx);
      const scope = closeScope(period, zone);
      const end = await this.periods.dayStart(scope.next, zone, tx);
      if (!end.past) throw new DomainError(PeriodsError.NotClosable, `period ${period} has not ended yet (it ends at ${end.start})`);
      const row = await this.periods.find(scope.month, tx);
      if (row && row.state !== 'open') throw new DomainError(PeriodsError.NotClosable, `period ${period} is already ${row.state}`);
      const created = await this.jobs.createWithin({ kind: CLOSE_PERIOD, scope: { ...scope }, createdBy, reason: null }, tx);
      await this.periods.startClosing(scope.month, created.id, tx);
      return created;
    });
    await this.jobs.enqueue(job.id);
    return job;
  }

  /**
   * The automatic close (reports.md 5.2): every open month from the first
   * with data whose end is at least `days` days past gets a close_period job
   * created by `system`. Any number of processes may call it; the periods
   * lock and the state check make each month's job one. Answers the jobs.
   */
  async autoClose(days: number): Promise<string[]> {
    const ids = await this.db.transaction(async (tx) => {
      await this.periods.lockPeriods(tx);
      const zone = await this.zone(tx);
      const due = await this.periods.dueForAutoClose(days, zone, tx);
      const created: string[] = [];
      for (const month of due) {
        const scope = closeScope(month.slice(0, 7), zone);
        const job = await this.jobs.createWithin({ kind: CLOSE_PERIOD, scope: { ...scope }, createdBy: SYSTEM_CREATOR, reason: `automatic close, ${days} days after the period ended` }, tx);
        await this.periods.startClosing(scope.month, job.id, tx);
        created.push(job.id);
      }
      return created;
    });
    for (const id of ids) {
      // A lost enqueue is made good by the report jobs' sweeper.
      await this.jobs.enqueue(id);
      this.log.info({ job: id }, 'reports: automatic period close queued');
    }
    return ids;
  }

  private async zone(sql: Parameters<RollupRepository['clock']>[0]): Promise<string> {
    const clock = await this.rollups.clock(sql);
    if (!clock) throw new Error('report_clock has no row yet: the reports module has not started');
    return clock.time_zone;
  }
}
