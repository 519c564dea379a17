import { Feature } from '../core/feature';
import { ReportIdempotencyKey } from './idempotency/idempotency-key.entity';
import { REPORT_ENTITIES } from './reports.entities';
import { RATING_ENTITIES } from './rating/rating.entities';
import { REPORTS_ERROR_STATUS } from './reports.errors';

/** Usage reports (reports.md): the rollup tables, the catalogue and their errors. */
export const REPORTS_FEATURE: Feature = {
  name: 'reports',
  entities: [...REPORT_ENTITIES, ...RATING_ENTITIES, ReportIdempotencyKey],
  errorStatus: REPORTS_ERROR_STATUS,
};
