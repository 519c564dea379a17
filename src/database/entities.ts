import { EntityVersion } from '../almanach/entity-version.entity';
import { VolumeType } from '../almanach/volume-type.entity';
import { ApiToken } from '../auth/api-token.entity';
import { Site } from '../auth/site.entity';

/** Every TypeORM entity; migrations/ must describe exactly these. */
export const ENTITIES = [ApiToken, Site, EntityVersion, VolumeType];
