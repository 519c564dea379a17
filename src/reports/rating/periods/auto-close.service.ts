import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { Logger } from 'pino';
import { AppConfig } from '../../../config/app-config';
import { LOGGER } from '../../../core/tokens';
import { ReportsLoops } from '../../rollups/reports-loops.service';
import { PeriodsService } from './periods.service';

/**
 * The automatic close (reports.md 5.2, `PERIOD_AUTO_CLOSE_DAYS`; 0, the
 * default, never): wherever the reports loops run (every worker; the API
 * without Redis), after every day roll pass that found nothing more to roll
 * (every 20 s), the months due are given close_period jobs created by
 * `system`. PeriodsService.autoClose runs under a transaction lock, so any
 * number of processes start each month's close once.
 */
@Injectable()
export class AutoCloseService implements OnModuleInit {
  constructor(
    private readonly config: AppConfig,
    private readonly loops: ReportsLoops,
    private readonly periods: PeriodsService,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  onModuleInit(): void {
    const days = this.config.periodAutoCloseDays;
    if (days > 0) {
      this.log.info({ days }, 'reports: periods close automatically');
      this.loops.whenCaughtUp(async () => void (await this.periods.autoClose(days)));
    }
  }
}
