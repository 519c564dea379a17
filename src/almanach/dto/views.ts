import { ApiProperty } from '@nestjs/swagger';

/**
 * Response shapes (almanach-v1.md 3 and 5.1), for the OpenAPI document only:
 * the service builds them in almanach-version.ts. Dates are emitted as
 * `YYYY-MM-DD HH:MM:SS[.ffffff]+00:00` (2.3).
 */
const DATE = { type: String, description: '`YYYY-MM-DD HH:MM:SS[.ffffff]+00:00`', example: '2016-01-01 18:30:00+00:00' };

class InfoVersion {
  @ApiProperty({ example: '0.1.0' })
  version: string;
}

class InfoCounts {
  @ApiProperty({ description: 'Every stored version', example: 12 })
  all_entities: number;

  @ApiProperty({ description: 'Open versions (end null)', example: 4 })
  active_entities: number;
}

export class InfoView {
  @ApiProperty({ type: InfoVersion })
  info: InfoVersion;

  @ApiProperty({ type: InfoCounts })
  database: InfoCounts;
}

class ImageMetaView {
  @ApiProperty({ required: false, example: 'ubuntu' })
  distro?: string;

  @ApiProperty({ required: false, example: '14.04' })
  version?: string;

  @ApiProperty({ required: false, example: 'linux' })
  os_type?: string;
}

abstract class VersionView {
  @ApiProperty({ example: '5b5bb4d4-a1d0-4b7e-9a31-6f1a3c8f2e10' })
  entity_id: string;

  @ApiProperty({ example: '6d8f2a4c1b3e4f5a9c7d0e1f2a3b4c5d' })
  project_id: string;

  @ApiProperty({ ...DATE, description: 'Start of this version' })
  start: string;

  @ApiProperty({ ...DATE, nullable: true, description: 'End of this version; null while open' })
  end: string | null;

  @ApiProperty({ ...DATE, description: 'Date of the latest event applied to this version' })
  last_event: string;

  @ApiProperty({ ...DATE, description: 'Server time when this version was last written' })
  processed: string;

  @ApiProperty({ type: String, nullable: true, example: 'web-1' })
  name: string | null;
}

/** An instance version (3.2). */
export class InstanceVersionView extends VersionView {
  @ApiProperty({ enum: ['instance'] })
  entity_type: 'instance';

  @ApiProperty({ type: String, nullable: true, example: 'm1.small' })
  flavor: string | null;

  @ApiProperty({ type: ImageMetaView })
  image_meta: ImageMetaView;

  @ApiProperty({ type: ImageMetaView, description: 'Same content as image_meta' })
  os: ImageMetaView;

  @ApiProperty({ type: 'object', additionalProperties: true, example: {} })
  metadata: Record<string, unknown>;
}

/** A volume version (3.3). */
export class VolumeVersionView extends VersionView {
  @ApiProperty({ enum: ['volume'] })
  entity_type: 'volume';

  @ApiProperty({ type: String, nullable: true, description: "The volume type's name", example: 'ssd' })
  volume_type: string | null;

  @ApiProperty({ type: Number, nullable: true, description: 'Size in GB', example: 20 })
  size: number | null;

  @ApiProperty({ type: [String], description: 'Ids of the attached instances', example: [] })
  attached_to: string[];
}

/** A volume type (3.4). */
export class VolumeTypeView {
  @ApiProperty({ example: 'ssd-id' })
  volume_type_id: string;

  @ApiProperty({ example: 'ssd' })
  volume_type_name: string;
}
