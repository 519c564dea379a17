import { Injectable } from '@nestjs/common';
import { JobView } from '../../jobs/dto/jobs.views';
import { ReportJobsService } from '../../jobs/report-jobs.service';
import { RollupRepository } from '../../rollups/rollup.repository';
import { invalid } from '../../window/reports-input';
import { WindowService } from '../../window/window.service';
import { RERATE, RerateScope } from './rerate.handler';
import { RerateRepository } from './rerate.repository';

/** A re-rate as the route received it (reports.md 4.6). */
export interface StartRerateCommand {
  start?: string;
  end?: string;
  period?: string;
  projectIds?: string[];
  currencies?: string[];
  recomputeUsage?: boolean;
  reason: string;
  createdBy: string;
}

/** Starts `rerate` jobs: the window resolved in the accounting zone and checked day-aligned and past, then stored and queued. */
@Injectable()
export class RerateService {
  constructor(
    private readonly jobs: ReportJobsService,
    private readonly windows: WindowService,
    private readonly rerates: RerateRepository,
    private readonly rollups: RollupRepository,
  ) {}

  async start(command: StartRerateCommand): Promise<JobView> {
    const clock = await this.rollups.clock();
    if (!clock) throw new Error('report_clock has no row yet: the reports module has not started');
    const window = await this.windows.resolve({ start: command.start, end: command.end, period: command.period });
    const aligned = await this.rerates.align(window.start, window.end, clock.time_zone);
    const field = command.period !== undefined ? 'period' : 'start';
    if (!aligned.start_aligned) throw invalid(field, `must start a day of ${clock.time_zone}`);
    if (!aligned.end_aligned) throw invalid(command.period !== undefined ? 'period' : 'end', `must start a day of ${clock.time_zone}`);
    if (aligned.end_after_today) throw invalid(command.period !== undefined ? 'period' : 'end', `must not be later than the start of today (${aligned.today_start})`);
    const scope: RerateScope = {
      start: isoMillis(window.start),
      end: isoMillis(window.end),
      project_ids: command.projectIds ? [...new Set(command.projectIds)] : null,
      currencies: command.currencies ? [...new Set(command.currencies)] : null,
      recompute_usage: command.recomputeUsage ?? false,
    };
    return this.jobs.create({ kind: RERATE, scope: { ...scope }, createdBy: command.createdBy, reason: command.reason });
  }
}

function isoMillis(instant: string): string {
  return `${instant.slice(0, 23)}Z`;
}
