import { Module } from '@nestjs/common';
import { ReportsProcessingModule } from '../reports-processing.module';
import { UsageReportRepository } from './usage-report.repository';
import { WindowRepository } from '../window/window.repository';
import { WindowService } from '../window/window.service';

/**
 * The usage report's statement (§3.1) and the window resolution it uses,
 * without the HTTP-facing service (cursors, CSV): for the reports API and for
 * readers in other processes (the budgets' live accrual, in the API and the
 * worker).
 */
@Module({
  imports: [ReportsProcessingModule],
  providers: [WindowRepository, WindowService, UsageReportRepository],
  exports: [WindowRepository, WindowService, UsageReportRepository],
})
export class UsageReadModule {}
