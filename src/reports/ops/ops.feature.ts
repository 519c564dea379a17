import { Feature } from '../../core/feature';
import { OPS_ENTITIES } from './ops.entities';

/** Metrics and operations views (reports.md §9): source freshness, queue samples, counter totals. */
export const REPORTS_OPS_FEATURE: Feature = {
  name: 'reports-ops',
  entities: [...OPS_ENTITIES],
  errorStatus: {},
};
