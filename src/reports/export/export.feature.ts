import { Feature } from '../../core/feature';
import { EXPORT_ERROR_STATUS } from './export.errors';

/** The CSV export of the report routes (reports.md 1.7): no table, one error code. */
export const REPORTS_EXPORT_FEATURE: Feature = { name: 'reports-export', entities: [], errorStatus: EXPORT_ERROR_STATUS };
