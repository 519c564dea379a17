import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches } from 'class-validator';
import { ReportsInput } from '../../../window/reports-input';

/** Path of `POST /admin/reports/periods/{period}/close` (reports.md 5.2): a calendar month `YYYY-MM`. */
@ReportsInput()
export class PeriodParams {
  @ApiProperty({ description: 'A month of REPORT_TIME_ZONE, `YYYY-MM`.', example: '2025-03', pattern: '^\\d{4}-(0[1-9]|1[0-2])$' })
  @IsString({ message: 'must be a month YYYY-MM' })
  @Matches(/^(?!0000)\d{4}-(0[1-9]|1[0-2])$/, { message: 'must be a month YYYY-MM' })
  period: string;
}
