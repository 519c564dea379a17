import { Feature } from '../core/feature';
import { DASHBOARD_ERROR_STATUS } from './dashboard.errors';

/** The dashboard page and its files (reports.md §8): no tables, no jobs. */
export const DASHBOARD_FEATURE: Feature = { name: 'dashboard', entities: [], errorStatus: DASHBOARD_ERROR_STATUS };
