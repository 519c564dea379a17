import { DynamicModule, Module } from '@nestjs/common';
import { HistoryPartitionsModule } from './almanach/partitions/history-partitions.module';
import { AllocationQuotaLinkModule } from './allocations/quota-link/quota-link.module';
import { JOB_NAMES } from './composition';
import { CoreModule, CoreResources } from './core/core.module';
import { ChecksProcessingModule } from './reports/checks/checks-processing.module';
import { ReportJobsProcessingModule } from './reports/jobs/report-jobs.module';
import { OpsProcessingModule } from './reports/ops/ops-processing.module';
import { PeriodsProcessingModule } from './reports/rating/periods/periods-processing.module';
import { HorizonProcessingModule } from './reports/rating/horizon/horizon-processing.module';
import { ReportsProcessingModule } from './reports/reports-processing.module';
import { RatingEngineProcessingModule } from './reports/rating/engine/rating-engine.module';
import { BudgetDerivationModule } from './reports/budgets/derivation/budget-derivation.module';
import { HoldsProcessingModule } from './reports/budgets/holds/holds-processing.module';
import { UsageProcessingModule } from './usage/usage-processing.module';
import { BudgetEventsProcessingModule } from './reports/budgets/events/budget-events.module';

/**
 * The worker process: queue consumers only, no HTTP. Feature modules add
 * their processors here as they get queued work.
 */
@Module({})
export class WorkerModule {
  static forRoot(resources: CoreResources): DynamicModule {
    return { module: WorkerModule, imports: [CoreModule.forRoot(resources, JOB_NAMES), UsageProcessingModule, AllocationQuotaLinkModule, ReportsProcessingModule, ReportJobsProcessingModule, ChecksProcessingModule, RatingEngineProcessingModule, OpsProcessingModule, HorizonProcessingModule, PeriodsProcessingModule, BudgetEventsProcessingModule, BudgetDerivationModule, HoldsProcessingModule, HistoryPartitionsModule] };
  }
}
