import { Feature } from '../core/feature';
import { ALMANACH_ERROR_STATUS } from './almanach.errors';
import { EntityVersion } from './entity-version.entity';
import { VersionTally } from './version-tally.entity';
import { VolumeType } from './volume-type.entity';

export const ALMANACH_FEATURE: Feature = { name: 'almanach', entities: [EntityVersion, VolumeType, VersionTally], errorStatus: ALMANACH_ERROR_STATUS };
