import { Feature } from '../core/feature';
import { QuotaCommission, QuotaProvision } from './quota-commission.entity';
import { QuotaHolding } from './quota-holding.entity';
import { QuotaProvisionLog } from './quota-provision-log.entity';
import { QuotaResource } from './quota-resource.entity';
import { QUOTAS_ERROR_STATUS } from './quotas.errors';

export const QUOTAS_FEATURE: Feature = {
  name: 'quotas',
  entities: [QuotaResource, QuotaHolding, QuotaCommission, QuotaProvision, QuotaProvisionLog],
  errorStatus: QUOTAS_ERROR_STATUS,
};
