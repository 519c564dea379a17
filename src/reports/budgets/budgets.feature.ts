import { Feature } from '../../core/feature';
import { BUDGET_ENTITIES } from './budgets.entities';

/** Allocation budgets (reports.md §6): their tables. The budget features add their error codes in their own Feature. */
export const BUDGETS_FEATURE: Feature = {
  name: 'report-budgets',
  entities: BUDGET_ENTITIES,
  errorStatus: {},
};
