import { EntityVersion } from '../almanach/entity-version.entity';
import { VolumeType } from '../almanach/volume-type.entity';
import { ApiToken } from '../auth/api-token.entity';
import { Site } from '../auth/site.entity';
import { UsageBatch } from '../usage/usage-batch.entity';
import { UsageFailedRecord } from '../usage/usage-failed-record.entity';
import { UsageRecord } from '../usage/usage-record.entity';

/** Every TypeORM entity; migrations/ must describe exactly these. */
export const ENTITIES = [ApiToken, Site, EntityVersion, VolumeType, UsageBatch, UsageRecord, UsageFailedRecord];
