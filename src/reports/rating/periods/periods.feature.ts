import { Feature } from '../../../core/feature';
import { PERIODS_ERROR_STATUS } from './periods.errors';

/** Periods and adjustment lines (reports.md 5.2, 5.3): their tables are the rating entities (REPORTS_FEATURE); this adds the error codes. */
export const PERIODS_FEATURE: Feature = {
  name: 'report-periods',
  entities: [],
  errorStatus: PERIODS_ERROR_STATUS,
};
