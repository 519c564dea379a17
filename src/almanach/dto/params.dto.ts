import { ApiProperty } from '@nestjs/swagger';
import { IsString } from 'class-validator';
import { AlmanachInput } from './almanach-input';

/**
 * Path parameters (almanach-v1.md 5): opaque strings, UUIDs with or without
 * dashes in practice; the service does not check their shape.
 */
@AlmanachInput()
export class ProjectParams {
  @ApiProperty({ description: 'Project (tenant) id', example: '6d8f2a4c1b3e4f5a9c7d0e1f2a3b4c5d' })
  @IsString()
  project_id: string;
}

@AlmanachInput()
export class InstanceParams {
  @ApiProperty({ description: 'Instance id', example: '5b5bb4d4-a1d0-4b7e-9a31-6f1a3c8f2e10' })
  @IsString()
  instance_id: string;
}

@AlmanachInput()
export class VolumeParams {
  @ApiProperty({ description: 'Volume id', example: 'a3c1b6c2-7f4e-4c1a-9d59-1b2b3c4d5e6f' })
  @IsString()
  volume_id: string;
}

@AlmanachInput()
export class EntityParams {
  @ApiProperty({ description: 'Instance or volume id', example: '5b5bb4d4-a1d0-4b7e-9a31-6f1a3c8f2e10' })
  @IsString()
  entity_id: string;
}

@AlmanachInput()
export class VolumeTypeParams {
  @ApiProperty({ description: 'Volume type id', example: 'ssd-id' })
  @IsString()
  volume_type_id: string;
}
