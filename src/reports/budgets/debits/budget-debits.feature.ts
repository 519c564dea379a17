import { Feature } from '../../../core/feature';
import { ReportBudgetOutside } from './budget-debits.entities';

/** Budget debits from usage (reports.md 6.2): the outside-period rows. No routes, no error codes. */
export const BUDGET_DEBITS_FEATURE: Feature = {
  name: 'report-budget-debits',
  entities: [ReportBudgetOutside],
  errorStatus: {},
};
