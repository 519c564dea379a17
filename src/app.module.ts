import { DynamicModule, Module } from '@nestjs/common';
import { AllocationsModule } from './allocations/allocations.module';
import { AlmanachModule } from './almanach/almanach.module';
import { AuthModule } from './auth/auth.module';
import { CollectorApiModule } from './collector/collector.module';
import { JOB_NAMES } from './composition';
import { CoreModule, CoreResources } from './core/core.module';
import { DashboardModule } from './dashboard/dashboard.module';
import { HealthModule } from './health/health.module';
import { QuotasModule } from './quotas/quotas.module';
import { ChecksModule } from './reports/checks/checks.module';
import { ReportJobsApiModule } from './reports/jobs/report-jobs-api.module';
import { OpsModule } from './reports/ops/ops.module';
import { ReportsModule } from './reports/reports.module';
import { UsageModule } from './usage/usage.module';

@Module({})
export class AppModule {
  static forRoot(resources: CoreResources): DynamicModule {
    return {
      module: AppModule,
      imports: [CoreModule.forRoot(resources, JOB_NAMES), AuthModule, HealthModule, AlmanachModule, UsageModule, QuotasModule, AllocationsModule, CollectorApiModule, ReportsModule, ReportJobsApiModule, ChecksModule, DashboardModule, OpsModule],
    };
  }
}
