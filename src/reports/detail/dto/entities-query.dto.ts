import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches } from 'class-validator';
import { UsageFiltersDto } from '../../usage/dto/usage-filters.dto';
import { BomParam, CursorParam, LimitParam } from '../../usage/dto/usage-query.dto';

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

  @CursorParam()
  cursor?: string;

  @ApiPropertyOptional({ enum: ['json', 'csv'], description: 'json (default) or csv; wins over the Accept header (Accept: text/csv also asks for CSV)' })
  @IsOptional()
  @IsIn(['json', 'csv'], { message: 'must be json or csv' })
  format?: 'json' | 'csv';

  @BomParam()
  bom?: '0' | '1';
}
