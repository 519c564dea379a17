import { Injectable } from '@nestjs/common';
import { JobView } from '../jobs/dto/jobs.views';
import { ReportJobsService } from '../jobs/report-jobs.service';
import { periodDays } from './check-window';
import { checkScope, CONSISTENCY_CHECK } from './consistency-check.handler';
import { RollupRepository } from '../rollups/rollup.repository';
import { ConsistencyCheckRepository } from './consistency-check.repository';

/** A consistency check or rebuild as the route received it (reports.md 7.5). */
export interface StartCheckCommand {
  start?: string;
  end?: string;
  period?: string;
  projectIds?: string[];
  sample?: number;
  repair?: boolean;
  rebuild?: boolean;
  reason?: string;
  createdBy: string;
}

/** Starts consistency_check jobs: the window resolved in the accounting zone, then stored and queued. */
@Injectable()
export class ConsistencyCheckService {
  constructor(
    private readonly jobs: ReportJobsService,
    private readonly checks: ConsistencyCheckRepository,
    private readonly rollups: RollupRepository,
  ) {}

  async start(command: StartCheckCommand): Promise<JobView> {
    const { first, end } = command.period !== undefined ? periodDays(command.period) : { first: command.start!, end: command.end! };
    const clock = await this.rollups.clock();
    if (!clock) throw new Error('report_clock has no row yet: the reports module has not started');
    const instants = await this.checks.dayStarts(first, end, clock.time_zone);
    const scope = checkScope(first, end, instants, clock.time_zone, command);
    return this.jobs.create({ kind: CONSISTENCY_CHECK, scope: { ...scope }, createdBy: command.createdBy, reason: command.reason ?? null });
  }
}
