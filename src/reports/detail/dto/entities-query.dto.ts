import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { UsageFiltersDto } from '../../usage/dto/usage-filters.dto';
import { LimitParam } from '../../usage/dto/usage-query.dto';

/** ISO 4217 code or `SU` (§3.1). */
export const CURRENCY = /^([A-Z]{3}|SU)$/;

/**
 * `GET /reports/usage/entities` (reports.md §3.2): the window and filters of
 * §3.1, then `currency`, `limit`, `cursor`, `format`, in the order errors
 * name them.
 */
export class EntitiesQueryDto extends UsageFiltersDto {
  @ApiPropertyOptional({ description: 'cost in this currency (ISO 4217 or SU); absent: REPORT_CURRENCY if set, else no cost', example: 'EUR' })
  @IsOptional()
  @IsString({ message: 'must be a string' })
  @Matches(CURRENCY, { message: 'must be a three-letter ISO 4217 code or SU' })
  currency?: string;

  @LimitParam()
  limit?: number;

  @ApiPropertyOptional({ description: 'opaque cursor from the previous page' })
  @IsOptional()
  @IsString({ message: 'must be a string' })
  @MaxLength(4096, { message: 'is not a cursor of this report' })
  cursor?: string;

  @ApiPropertyOptional({ enum: ['json', 'csv'], description: 'json (default) or csv; wins over the Accept header (Accept: text/csv also asks for CSV)' })
  @IsOptional()
  @IsIn(['json', 'csv'], { message: 'must be json or csv' })
  format?: 'json' | 'csv';

  @ApiPropertyOptional({ enum: ['0', '1'], description: 'CSV only: 1 adds a UTF-8 byte-order mark' })
  @IsOptional()
  @IsIn(['0', '1'], { message: 'must be 0 or 1' })
  bom?: '0' | '1';
}
