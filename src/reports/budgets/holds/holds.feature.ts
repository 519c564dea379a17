import { Feature } from '../../../core/feature';
import { HOLDS_ERROR_STATUS } from './holds.errors';

/** Budget holds (reports.md 6.4): their table is a budget entity (BUDGETS_FEATURE); this adds the error codes. */
export const HOLDS_FEATURE: Feature = {
  name: 'report-budget-holds',
  entities: [],
  errorStatus: HOLDS_ERROR_STATUS,
};
