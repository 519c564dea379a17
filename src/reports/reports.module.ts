import { Module } from '@nestjs/common';
import { ReportsProcessingModule } from './reports-processing.module';
import { UsageReportController } from './usage/usage-report.controller';
import { UsageReportRepository } from './usage/usage-report.repository';
import { UsageReportService } from './usage/usage-report.service';
import { WindowRepository } from './window/window.repository';
import { WindowService } from './window/window.service';

/** The reports API (reports.md): usage reports, the flavor catalogue and the operator routes. */
@Module({
  imports: [ReportsProcessingModule],
  controllers: [UsageReportController],
  providers: [WindowRepository, WindowService, UsageReportRepository, UsageReportService],
})
export class ReportsModule {}
