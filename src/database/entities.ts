import { EntityVersion } from '../almanach/entity-version.entity';
import { VolumeType } from '../almanach/volume-type.entity';
import { ALLOCATION_ENTITIES } from '../allocations/allocation.entities';
import { CATALOGUE_ENTITIES } from '../allocations/catalogue.entities';
import { ApiToken } from '../auth/api-token.entity';
import { Site } from '../auth/site.entity';

/** Every TypeORM entity; migrations/ must describe exactly these. */
export const ENTITIES = [ApiToken, Site, EntityVersion, VolumeType, ...CATALOGUE_ENTITIES, ...ALLOCATION_ENTITIES];
