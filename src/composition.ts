import { ALLOCATIONS_FEATURE } from './allocations/allocations.feature';
import { ALMANACH_FEATURE } from './almanach/almanach.feature';
import { AUTH_FEATURE } from './auth/auth.feature';
import { COLLECTOR_FEATURE } from './collector/collector.feature';
import { DASHBOARD_FEATURE } from './dashboard/dashboard.feature';
import { Feature } from './core/feature';
import { COMMON_ERROR_STATUS } from './http/domain-error';
import { QUOTAS_FEATURE } from './quotas/quotas.feature';
import { REPORT_JOBS_FEATURE } from './reports/jobs/report-jobs.feature';
import { REPORTS_FEATURE } from './reports/reports.feature';
import { REPORTS_CATALOGUE_FEATURE } from './reports/catalogue/catalogue.feature';
import { REPORTS_EXPORT_FEATURE } from './reports/export/export.feature';
import { REPORTS_PRICE_LISTS_FEATURE } from './reports/rating/price-lists/price-lists.feature';
import { REPORTS_OPS_FEATURE } from './reports/ops/ops.feature';
import { PERIODS_FEATURE } from './reports/rating/periods/periods.feature';
import { BUDGETS_FEATURE } from './reports/budgets/budgets.feature';
import { BUDGET_EVENTS_FEATURE } from './reports/budgets/events/budget-events.feature';
import { BUDGETS_CORE_FEATURE } from './reports/budgets/budgets-core.feature';
import { HOLDS_FEATURE } from './reports/budgets/holds/holds.feature';
import { BUDGET_DEBITS_FEATURE } from './reports/budgets/debits/budget-debits.feature';
import { USAGE_FEATURE } from './usage/usage.feature';

/**
 * The composition root's lists: every feature of the service, and what the
 * infrastructure needs from them. Adding a module means adding its Feature
 * here and its Nest module to AppModule (and WorkerModule when it has jobs).
 */
export const FEATURES: readonly Feature[] = [AUTH_FEATURE, ALMANACH_FEATURE, USAGE_FEATURE, QUOTAS_FEATURE, ALLOCATIONS_FEATURE, COLLECTOR_FEATURE, REPORTS_FEATURE, REPORT_JOBS_FEATURE, REPORTS_EXPORT_FEATURE, REPORTS_CATALOGUE_FEATURE, REPORTS_PRICE_LISTS_FEATURE, DASHBOARD_FEATURE, REPORTS_OPS_FEATURE, PERIODS_FEATURE, BUDGETS_FEATURE, BUDGET_EVENTS_FEATURE, BUDGETS_CORE_FEATURE, HOLDS_FEATURE, BUDGET_DEBITS_FEATURE];

/** Every TypeORM entity; migrations/ must describe exactly these (test/e2e/schema-drift). */
export const ENTITIES: Function[] = FEATURES.flatMap((feature) => feature.entities);

/** Every job name; a consuming process refuses to start unless each has exactly one handler. */
export const JOB_NAMES: string[] = FEATURES.flatMap((feature) => feature.jobs ?? []);

/** Error code → HTTP status for the one global filter. A code declared twice is a start-up error. */
export const ERROR_STATUS: Record<string, number> = mergeErrorStatus();

function mergeErrorStatus(): Record<string, number> {
  const merged: Record<string, number> = { ...COMMON_ERROR_STATUS };
  for (const feature of FEATURES) {
    for (const [code, status] of Object.entries(feature.errorStatus)) {
      if (code in merged) throw new Error(`error code ${code} is declared twice (feature ${feature.name})`);
      merged[code] = status;
    }
  }
  return merged;
}
