import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { ReportsInput } from '../../window/reports-input';

export const HISTORY_RULE = 'must be <n>m, <n>h or <n>d (minutes, hours, days), at most 7d';

/** Query of `GET /reports/ops/queues` (reports.md §9.2). */
@ReportsInput()
export class OpsQueuesQueryDto {
  @ApiPropertyOptional({ description: 'Adds the samples of this last span, oldest first: `<n>m`, `<n>h` or `<n>d`, at most `7d`.', example: '1h', pattern: '^[1-9][0-9]{0,5}[mhd]$' })
  @IsOptional()
  @IsString({ message: HISTORY_RULE })
  @Matches(/^[1-9]\d{0,5}[mhd]$/, { message: HISTORY_RULE })
  history?: string;
}

/** Query of `GET /reports/amie/failures` (reports.md §9.2). */
@ReportsInput()
export class AmieFailuresQueryDto {
  @ApiPropertyOptional({ description: 'Only this AMIE site.', example: 'site-a' })
  @IsOptional()
  @IsString({ message: 'must be a string' })
  @MaxLength(100, { message: 'must be at most 100 characters' })
  site?: string;

  @ApiPropertyOptional({ description: 'Only this resource; empty selects the records with no usable resource (grouped under `""`).', example: 'cluster-a' })
  @IsOptional()
  @IsString({ message: 'must be a string' })
  @MaxLength(1000, { message: 'must be at most 1000 characters' })
  resource?: string;
}
