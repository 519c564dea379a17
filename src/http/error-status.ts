import { ALLOCATIONS_ERROR_STATUS } from '../allocations/allocations.errors';
import { ALMANACH_ERROR_STATUS } from '../almanach/almanach.errors';
import { AUTH_ERROR_STATUS } from '../auth/auth.errors';
import { QUOTAS_ERROR_STATUS } from '../quotas/quotas.errors';
import { USAGE_ERROR_STATUS } from '../usage/usage.errors';
import { COMMON_ERROR_STATUS } from './domain-error';

/** Error code → HTTP status, for every module. Add a module's map here. */
export const ERROR_STATUS: Record<string, number> = {
  ...COMMON_ERROR_STATUS,
  ...AUTH_ERROR_STATUS,
  ...ALMANACH_ERROR_STATUS,
  ...QUOTAS_ERROR_STATUS,
  ...ALLOCATIONS_ERROR_STATUS,
  ...USAGE_ERROR_STATUS,
};
