import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional, IsString, Length, ValidateIf } from 'class-validator';
import { ValidationPolicy } from '../../http/validation.pipe';
import { IsRequiredString, IsSafeInteger, IsStringOrNull, MESSAGES, NestedList } from './quota-rules';

/** `<name>` of /admin/quotas/resources/<name> (quotas.md 6); any characters, URL-encoded. */
export class ResourceNameParamsDto {
  @ApiProperty({ description: 'Resource name, 1 to 255 characters (URL-encoded in the path)', example: 'cyclades.vm' })
  @IsString({ message: MESSAGES.resourceName })
  @Length(1, 255, { message: MESSAGES.resourceName })
  name: string;
}

/** PUT /admin/quotas/resources/<name>: create or replace (quotas.md 6); `null` means the default; other fields are ignored. */
@ValidationPolicy({ unknown: 'strip' })
export class PutResourceDto {
  @ApiProperty({ description: 'The service that offers the resource', example: 'cyclades_compute' })
  @IsRequiredString()
  service: string;

  @ApiPropertyOptional({ default: '', example: 'Virtual machines' })
  @IsOptional()
  @IsString({ message: MESSAGES.string })
  description?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, default: null, description: '`null` for plain counts, `"bytes"` for sizes' })
  @ValidateIf((dto: PutResourceDto) => dto.unit !== undefined && dto.unit !== null)
  @IsString({ message: MESSAGES.stringOrNull })
  unit?: string | null;

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean({ message: MESSAGES.boolean })
  ui_visible?: boolean | null;

  @ApiPropertyOptional({ default: true, description: 'false leaves the resource out of every Astakos answer' })
  @IsOptional()
  @IsBoolean({ message: MESSAGES.boolean })
  api_visible?: boolean | null;

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean({ message: MESSAGES.boolean })
  allow_in_projects?: boolean | null;
}

/** One limit (quotas.md 6): `user:<id>` with source `project:<id>`, or `project:<id>` with a null source. */
export class LimitEntryDto {
  @ApiProperty({ example: 'project:0a1e7d3c-5b6a-4f1e-8c2d-9e8f7a6b5c4d' })
  @IsRequiredString()
  holder: string;

  @ApiProperty({ type: String, nullable: true, example: null })
  @IsStringOrNull()
  source: string | null;

  @ApiProperty({ example: 'cyclades.vm' })
  @IsRequiredString()
  resource: string;

  @ApiProperty({ type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, example: 8 })
  @IsSafeInteger(MESSAGES.limit, 0)
  limit: number;
}

/** PUT /admin/quotas/holdings (quotas.md 6). */
@ValidationPolicy({ unknown: 'strip' })
export class PutHoldingsDto {
  @ApiProperty({ type: () => [LimitEntryDto] })
  @NestedList(() => LimitEntryDto)
  holdings: LimitEntryDto[];
}

/** GET /admin/quotas/holdings: exact-match filters; `source=null` selects null sources. */
@ValidationPolicy({ unknown: 'strip' })
export class ListHoldingsQueryDto {
  @ApiPropertyOptional({ example: 'user:c02f315b-7d84-45bc-a383-552a3f97d2ad' })
  @IsOptional()
  @IsString({ message: MESSAGES.once })
  holder?: string;

  @ApiPropertyOptional({ description: 'A source, or the literal `null` for null sources', example: 'null' })
  @IsOptional()
  @IsString({ message: MESSAGES.once })
  source?: string;

  @ApiPropertyOptional({ example: 'cyclades.vm' })
  @IsOptional()
  @IsString({ message: MESSAGES.once })
  resource?: string;
}
