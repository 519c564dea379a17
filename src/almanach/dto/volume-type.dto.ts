import { ApiProperty } from '@nestjs/swagger';
import { IsString } from 'class-validator';
import { AlmanachInput, Present } from './almanach-input';

/** POST /v1/volume_type (almanach-v1.md 5.16): type_id, then type_name. */
@AlmanachInput()
export class CreateVolumeTypeDto {
  @ApiProperty({ example: 'ssd-id' })
  @Present()
  @IsString()
  type_id: string;

  @ApiProperty({ example: 'ssd' })
  @Present()
  @IsString()
  type_name: string;
}
