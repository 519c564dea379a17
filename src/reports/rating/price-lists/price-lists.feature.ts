import { Feature } from '../../../core/feature';
import { PRICE_LIST_ERROR_STATUS } from './price-lists.errors';

/** Price lists, items and corrections (reports.md §4.1–4.4); their tables are among REPORTS_FEATURE's entities. */
export const REPORTS_PRICE_LISTS_FEATURE: Feature = { name: 'reports-price-lists', entities: [], errorStatus: PRICE_LIST_ERROR_STATUS };
