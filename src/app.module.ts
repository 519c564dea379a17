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
import { RerateApiModule } from './reports/rating/engine/rerate-api.module';
import { ReportJobsApiModule } from './reports/jobs/report-jobs-api.module';
import { OpsModule } from './reports/ops/ops.module';
import { PeriodsModule } from './reports/rating/periods/periods.module';
import { HorizonModule } from './reports/rating/horizon/horizon.module';
import { ReportsModule } from './reports/reports.module';
import { BudgetLedgerModule } from './reports/budgets/ledger/budget-ledger.module';
import { BudgetFiguresModule } from './reports/budgets/figures/budget-figures.module';
import { BudgetEventsApiModule } from './reports/budgets/events/budget-events-api.module';
import { BudgetsApiModule } from './reports/budgets/routes/budgets-api.module';
import { HoldsModule } from './reports/budgets/holds/holds.module';
import { UsageModule } from './usage/usage.module';

@Module({})
export class AppModule {
  static forRoot(resources: CoreResources): DynamicModule {
    return {
      module: AppModule,
      imports: [CoreModule.forRoot(resources, JOB_NAMES), AuthModule, HealthModule, AlmanachModule, UsageModule, QuotasModule, AllocationsModule, CollectorApiModule, ReportsModule, ReportJobsApiModule, ChecksModule, RerateApiModule, HorizonModule, DashboardModule, OpsModule, PeriodsModule, BudgetLedgerModule, BudgetFiguresModule, BudgetEventsApiModule, BudgetsApiModule, HoldsModule],
    };
  }
}
