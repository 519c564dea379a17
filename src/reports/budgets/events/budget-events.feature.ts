import { Feature } from '../../../core/feature';
import { BUDGET_EVENT_ENTITIES } from './budget-events.entities';
import { BUDGET_EVENTS_ERROR_STATUS } from './budget-events.errors';

/** Threshold events, the feed, webhooks and the events queue (reports.md 6.6, 6.7): the delivery tables and error codes. */
export const BUDGET_EVENTS_FEATURE: Feature = {
  name: 'report-budget-events',
  entities: BUDGET_EVENT_ENTITIES,
  errorStatus: BUDGET_EVENTS_ERROR_STATUS,
};
