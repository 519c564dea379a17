import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../../config/app-config';
import { Exact } from '../../decimal';
import { lineSelection } from '../../rating/periods/period-lines-sql';
import { WITHOUT_JIT } from '../../rollups/rollup.repository';
import { inSnapshot } from '../../../database/snapshot';
import { UsageLine, UsageReportRepository } from '../../usage/usage-report.repository';
import { WindowRepository } from '../../window/window.repository';
import { WindowService } from '../../window/window.service';
import { AccruedTodayRepository } from './accrued-today.repository';

/** The meters accruals cover (6.2): instance and volume meters, never AMIE (AMIE reaches budgets per record). */
export const ACCRUED_METERS = ['instance.time', 'instance.vcpu', 'instance.ram', 'instance.disk', 'volume.size'];

const PAGE = 10_000;

/**
 * `accrued_today` (reports.md 6.2): the SU cost of each project's usage of
 * the day not yet booked, rated at read time by the usage report's own
 * statement (`UsageReportRepository.aggregate`: price list by project else
 * default, item precedence, derived meters, half-even per row), in one
 * REPEATABLE READ snapshot. It reads the repository, not the HTTP-facing
 * report service, so the worker (threshold evaluator) loads no cursor code.
 *
 * With no `SU` price list at all, nothing is rated in SU: zero. One probe
 * (AccruedTodayRepository.scope) comes first: once the day roll has run, a
 * project without an instance or volume today cell is zero without the
 * statement (the statement would read nothing for it), and only the
 * projects with one are rated. A hold on an HPC project without cloud usage
 * then costs one index probe instead of the report statement (planned anew
 * each time, a few ms of CPU).
 */
@Injectable()
export class AccruedTodayService {
  constructor(
    private readonly db: DataSource,
    private readonly config: AppConfig,
    private readonly windows: WindowService,
    private readonly windowRepo: WindowRepository,
    private readonly reports: UsageReportRepository,
    private readonly probe: AccruedTodayRepository,
  ) {}

  /** Project id → accrued_today (6 decimals); every asked project is in the answer. */
  async of(projectIds: string[]): Promise<Map<string, string>> {
    const out = new Map(projectIds.map((p) => [p, '0.000000']));
    if (projectIds.length === 0) return out;
    const scope = await this.probe.scope(projectIds);
    if (!scope.hasList) return out;
    const rated = scope.withCells ?? projectIds;
    if (rated.length === 0) return out;
    const sums = await inSnapshot(this.db, WITHOUT_JIT, async (tx) => {
      const window = await this.windows.resolve({ period: await this.windowRepo.today(this.config.reportTimeZone, tx) }, tx);
      const found = new Map<string, Exact>();
      let after: (string | boolean)[] | null = null;
      for (;;) {
        const answer = await this.reports.aggregate(
          {
            start: window.start,
            end: window.end,
            asOf: window.as_of,
            tz: window.tz,
            period: window.period,
            granularity: 'total',
            groupBy: ['project_id'],
            projects: rated,
            sites: null,
            sources: null,
            meters: ACCRUED_METERS,
            flavors: null,
            volumeTypes: null,
            resources: null,
            recordTypes: null,
            currency: 'SU',
            siteCells: false,
            // Live usage only: adjustment lines posted today belong to closed periods, not to today's accrual.
            lines: lineSelection('live', undefined),
            after,
            limit: PAGE,
          },
          tx,
        );
        for (const row of JSON.parse(answer.rows) as UsageLine[]) {
          if (row.cost === null || row.project_id === null) continue;
          found.set(row.project_id, (found.get(row.project_id) ?? new Exact(0)).plus(row.cost));
        }
        if (answer.next_key === null) return found;
        after = answer.next_key;
      }
    });
    for (const [project, sum] of sums) out.set(project, sum.toFixed(6));
    return out;
  }
}
