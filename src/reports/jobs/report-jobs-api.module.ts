import { Module } from '@nestjs/common';
import { ReportJobsAdminService } from './report-jobs-admin.service';
import { ReportJobsController } from './report-jobs.controller';
import { ReportJobsProcessingModule } from './report-jobs.module';
import { ReportJobsSweeperService } from './report-jobs-sweeper.service';

/** `/admin/reports/jobs` and the sweeper that re-queues jobs whose queue job vanished (API process). */
@Module({
  imports: [ReportJobsProcessingModule],
  controllers: [ReportJobsController],
  providers: [ReportJobsAdminService, ReportJobsSweeperService],
})
export class ReportJobsApiModule {}
