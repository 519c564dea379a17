import { Feature } from '../../core/feature';
import { CATALOGUE_ERROR_STATUS } from './catalogue.errors';

/** The flavor catalogue (reports.md 2.4, 3.5); its tables are among REPORTS_FEATURE's entities. */
export const REPORTS_CATALOGUE_FEATURE: Feature = { name: 'reports-catalogue', entities: [], errorStatus: CATALOGUE_ERROR_STATUS };
