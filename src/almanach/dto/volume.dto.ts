import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsString } from 'class-validator';
import { Micros } from '../almanach-dates';
import { AlmanachInput, API_BODY_DATE, BodyDate, IdList, MAX_SIZE, Present, Size, UnlessNull } from './almanach-input';

const API_SIZE = {
  oneOf: [
    { type: 'integer', minimum: 0, maximum: MAX_SIZE },
    { type: 'string', pattern: '^\\s*\\d{1,10}\\s*$' },
  ],
  description: 'Size in GB: a whole number, or a string of digits (the CLI sends strings)',
  example: 20,
};

/** POST /v1/project/{project_id}/volume (almanach-v1.md 5.7); keys checked in this order. */
@AlmanachInput()
export class CreateVolumeDto {
  @ApiProperty({ description: 'Volume id (entity_id)', example: 'a3c1b6c2-7f4e-4c1a-9d59-1b2b3c4d5e6f' })
  @Present()
  @IsString()
  volume_id: string;

  @ApiProperty({ ...API_BODY_DATE, description: 'Start of the first version', example: '2016-01-01T18:00:00.000000Z' })
  @Present()
  @BodyDate()
  start: Micros;

  @ApiProperty({ type: String, nullable: true, description: 'A volume type id, stored as its name; must exist', example: 'ssd-id' })
  @Present()
  @UnlessNull()
  @IsString()
  volume_type: string | null;

  @ApiProperty(API_SIZE)
  @Present()
  @Size()
  size: number;

  @ApiProperty({ type: String, nullable: true, example: 'data-1' })
  @Present()
  @UnlessNull()
  @IsString()
  volume_name: string | null;

  @ApiPropertyOptional({
    oneOf: [{ type: 'array', items: { type: 'string' } }, { type: 'string' }],
    nullable: true,
    description: 'Instance ids; absent, null or "" mean none, one string a one-element list',
    example: ['5b5bb4d4-a1d0-4b7e-9a31-6f1a3c8f2e10'],
  })
  @IdList(true)
  attached_to: string[] = [];
}

/** PUT /v1/volume/{volume_id}/resize (5.9): size, then date. */
@AlmanachInput()
export class ResizeVolumeDto {
  @ApiProperty(API_SIZE)
  @Present()
  @Size()
  size: number;

  @ApiProperty({ ...API_BODY_DATE, example: '2016-01-01T19:00:00.000000Z' })
  @Present()
  @BodyDate()
  date: Micros;
}

/** PUT /v1/volume/{volume_id}/attach and /detach (5.10, 5.11): date, then attachments. */
@AlmanachInput()
export class AttachmentsDto {
  @ApiProperty({ ...API_BODY_DATE, example: '2016-01-01T18:30:00.000000Z' })
  @Present()
  @BodyDate()
  date: Micros;

  @ApiProperty({
    type: [String],
    nullable: true,
    description: 'The complete list of instances attached after the event (null: none)',
    example: ['5b5bb4d4-a1d0-4b7e-9a31-6f1a3c8f2e10'],
  })
  @Present()
  @IdList()
  attachments: string[];
}
