import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength } from 'class-validator';

/** Path of `GET /dashboard/assets/{file}` (reports.md 8.1): any name; one that is not an asset is a 404. */
export class AssetParams {
  @ApiProperty({ description: 'a content-hashed file name the page refers to', example: 'dashboard.3f2a9c1b7e04.js', maxLength: 200 })
  @IsString()
  @MaxLength(200)
  file: string;
}
