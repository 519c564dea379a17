import { Feature } from '../../core/feature';
import { ReportBudgetRecompute } from './derivation/budget-recompute.entity';
import { BUDGETS_ERROR_STATUS } from './routes/budgets.errors';

/** Budget derivation and the budget routes (reports.md 6.1, 6.3, 6.5): the owed-derivation table and the routes' error codes. */
export const BUDGETS_CORE_FEATURE: Feature = {
  name: 'report-budgets-core',
  entities: [ReportBudgetRecompute],
  errorStatus: BUDGETS_ERROR_STATUS,
};
