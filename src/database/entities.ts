import { EntityVersion } from '../almanach/entity-version.entity';
import { VolumeType } from '../almanach/volume-type.entity';
import { ALLOCATION_ENTITIES } from '../allocations/allocation.entities';
import { CATALOGUE_ENTITIES } from '../allocations/catalogue.entities';
import { QUOTA_LINK_ENTITIES } from '../allocations/quota-link/quota-link.entities';
import { ApiToken } from '../auth/api-token.entity';
import { Site } from '../auth/site.entity';
import { QuotaCommission, QuotaProvision } from '../quotas/quota-commission.entity';
import { QuotaHolding } from '../quotas/quota-holding.entity';
import { QuotaProvisionLog } from '../quotas/quota-provision-log.entity';
import { QuotaResource } from '../quotas/quota-resource.entity';
import { UsageBatch } from '../usage/usage-batch.entity';
import { UsageFailedRecord } from '../usage/usage-failed-record.entity';
import { UsageRecord } from '../usage/usage-record.entity';

/** Every TypeORM entity; migrations/ must describe exactly these. */
export const ENTITIES = [
  ApiToken,
  Site,
  EntityVersion,
  VolumeType,
  UsageBatch,
  UsageRecord,
  UsageFailedRecord,
  QuotaResource,
  QuotaHolding,
  QuotaCommission,
  QuotaProvision,
  QuotaProvisionLog,
  ...CATALOGUE_ENTITIES,
  ...ALLOCATION_ENTITIES,
  ...QUOTA_LINK_ENTITIES,
];
