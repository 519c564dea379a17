import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../config/app-config';
import { ConfigError } from '../../config/env.schema';
import { LOGGER } from '../../core/tokens';
import { RollupRepository } from '../rollups/rollup.repository';
import { ReportClockRepository } from './report-clock.repository';

/**
 * The accounting clock (reports.md §1.5, §2.3, §7.1): `REPORT_TIME_ZONE` and
 * `CLOUD_SITE` are recorded at the first start, when every key of the stored
 * history is marked dirty so the worker builds the rollups from nothing; a
 * later start with other values stops with a configuration error, since cells
 * are days of that zone and changing it would silently re-cut history.
 * `LATE_HORIZON_DAYS` (§5.4) is recorded at every start, after those checks:
 * the late-data horizon is a policy a site may change, read by the database
 * (`report_horizon_refuses`), so the value of the last process started holds.
 */
@Injectable()
export class ReportClockService implements OnModuleInit {
  constructor(
    private readonly db: DataSource,
    private readonly config: AppConfig,
    private readonly rollups: RollupRepository,
    private readonly clocks: ReportClockRepository,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.ensure();
  }

  /** Creates the clock if missing, or checks the configuration against it. */
  async ensure(): Promise<void> {
    const zone = this.config.reportTimeZone;
    const site = this.config.cloudSite;
    if (!(await this.rollups.knownTimeZone(zone))) {
      throw new ConfigError(`REPORT_TIME_ZONE: ${zone} is not a time zone PostgreSQL knows (see pg_timezone_names)`);
    }
    const created = await this.db.transaction((tx) => this.rollups.createClock(zone, site, tx));
    if (created) {
      this.log.info({ timeZone: zone, cloudSite: site }, `reports: accounting time zone ${zone} and cloud site ${site} recorded; rollups are built from the stored history`);
      await this.recordLateHorizon();
      return;
    }
    const clock = await this.rollups.clock();
    if (clock && clock.time_zone !== zone) {
      throw new ConfigError(
        `REPORT_TIME_ZONE is ${zone}, but this database's reports were cut in ${clock.time_zone} at its first start; set REPORT_TIME_ZONE=${clock.time_zone} (changing it would re-cut every booked day)`,
      );
    }
    if (clock && clock.cloud_site !== site) {
      throw new ConfigError(`CLOUD_SITE is ${site}, but this database's Almanach figures carry ${clock.cloud_site} since its first start; set CLOUD_SITE=${clock.cloud_site}`);
    }
    await this.recordLateHorizon();
  }

  private async recordLateHorizon(): Promise<void> {
    const days = this.config.lateHorizonDays;
    if (await this.clocks.recordLateHorizon(days)) {
      this.log.info(
        { lateHorizonDays: days },
        days > 0 ? `reports: late-data horizon of ${days} days recorded; older source writes are refused outside backfill windows` : 'reports: no late-data horizon (LATE_HORIZON_DAYS=0)',
      );
    }
  }
}
