import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { ListParam, UsageFiltersDto } from './usage-filters.dto';

export const GROUP_NAMES = ['project_id', 'site', 'source', 'key', 'subkey', 'meter', 'flavor', 'volume_type', 'resource', 'record_type'] as const;

/** `limit` of a paged report (§1.6): 1 to 10000; larger is a 400, never clamped. */
export const LimitParam = () => (target: object, property: string) => {
  ApiPropertyOptional({ description: 'rows per page, 1 to 10000 (default 1000)', example: 1000 })(target, property);
  IsOptional()(target, property);
  Transform(({ value }) => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value))(target, property);
  IsInt({ message: 'must be a whole number between 1 and 10000' })(target, property);
  Min(1, { message: 'must be a whole number between 1 and 10000' })(target, property);
  Max(10000, { message: 'must be a whole number between 1 and 10000' })(target, property);
};

/** `cursor` of a paged report (§1.6): the opaque `next_cursor` of the previous page. */
export const CursorParam = () => (target: object, property: string) => {
  ApiPropertyOptional({ description: 'opaque cursor from the previous page' })(target, property);
  IsOptional()(target, property);
  IsString({ message: 'must be a string' })(target, property);
  MaxLength(4096, { message: 'is not a cursor of this report' })(target, property);
};

/** `bom` of a CSV answer (§1.7). */
export const BomParam = () => (target: object, property: string) => {
  ApiPropertyOptional({ enum: ['0', '1'], description: 'CSV only: 1 adds a UTF-8 byte-order mark' })(target, property);
  IsOptional()(target, property);
  IsIn(['0', '1'], { message: 'must be 0 or 1' })(target, property);
};

/** The query of `GET /reports/usage` (§3.1), in the order the contract lists its parameters. */
export class UsageQueryDto extends UsageFiltersDto {
  @ApiPropertyOptional({ enum: ['total', 'day', 'month'], description: 'one row per bucket of tz per group (default total)' })
  @IsOptional()
  @IsIn(['total', 'day', 'month'], { message: 'must be total, day or month' })
  granularity?: 'total' | 'day' | 'month';

  @ApiPropertyOptional({ description: `comma-separated, from ${GROUP_NAMES.join(', ')}; default project_id,key,subkey`, type: [String] })
  @IsOptional()
  @ListParam()
  @IsIn(GROUP_NAMES, { each: true, message: `values must be among ${GROUP_NAMES.join(', ')}` })
  group_by?: string[];

  @ApiPropertyOptional({ description: 'ISO 4217 code or SU: include cost from the price list in that currency' })
  @IsOptional()
  @Matches(/^([A-Z]{3}|SU)$/, { message: 'must be a three-letter ISO 4217 code or SU' })
  currency?: string;

  @ApiPropertyOptional({ enum: ['usage', 'adjustments', 'all'], description: 'which lines (§5.3); default usage' })
  @IsOptional()
  @IsIn(['usage', 'adjustments', 'all'], { message: 'must be usage, adjustments or all' })
  lines?: 'usage' | 'adjustments' | 'all';

  @ApiPropertyOptional({ enum: ['closed', 'live'], description: 'days of closed periods: frozen (closed, default) or recomputed (live)' })
  @IsOptional()
  @IsIn(['closed', 'live'], { message: 'must be closed or live' })
  view?: 'closed' | 'live';

  @LimitParam()
  limit?: number;

  @CursorParam()
  cursor?: string;

  @ApiPropertyOptional({ enum: ['json', 'csv'], description: 'answer format (the query parameter wins over Accept)' })
  @IsOptional()
  @IsIn(['json', 'csv'], { message: 'must be json or csv' })
  format?: 'json' | 'csv';

  @BomParam()
  bom?: '0' | '1';
}
