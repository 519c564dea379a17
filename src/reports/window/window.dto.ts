import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, ValidationArguments } from 'class-validator';
import { ReportsInput } from './reports-input';

/** `YYYY-MM-DD`, or a date-time with `Z` or an offset and at most six fractional digits (§1.5). */
export const INSTANT_OR_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2}))?$/;
const NAIVE_DATE_TIME = /^\d{4}-\d{2}-\d{2}T/;
export const PERIOD = /^\d{4}(-\d{2}(-\d{2})?)?$/;
const ZONE = /^[A-Za-z][A-Za-z0-9_+\-]*(\/[A-Za-z0-9_+\-]+)*$/;

/**
 * The window of a report (§1.5): `start`+`end` (instants or local dates) or
 * `period`, and `tz`. Which combination is allowed, and what the dates mean,
 * is decided by WindowService once the zone is known to PostgreSQL.
 */
@ReportsInput()
export class WindowQueryDto {
  @ApiPropertyOptional({ description: 'window start: YYYY-MM-DD (start of that local day in tz) or a date-time with Z or an offset', example: '2025-03-01' })
  @IsOptional()
  @IsString({ message: 'must be a string' })
  @Matches(INSTANT_OR_DATE, { message: instantMessage })
  start?: string;

  @ApiPropertyOptional({ description: 'window end (exclusive), same forms as start', example: '2025-04-01' })
  @IsOptional()
  @IsString({ message: 'must be a string' })
  @Matches(INSTANT_OR_DATE, { message: instantMessage })
  end?: string;

  @ApiPropertyOptional({ description: 'a local year, month or day in tz: YYYY, YYYY-MM or YYYY-MM-DD', example: '2025-03' })
  @IsOptional()
  @IsString({ message: 'must be a string' })
  @Matches(PERIOD, { message: 'must be YYYY, YYYY-MM or YYYY-MM-DD' })
  period?: string;

  @ApiPropertyOptional({ description: 'IANA time zone for period, bare dates and buckets; default REPORT_TIME_ZONE', example: 'Europe/Berlin' })
  @IsOptional()
  @IsString({ message: 'must be a string' })
  @Matches(ZONE, { message: 'must be an IANA time zone name' })
  tz?: string;
}

function instantMessage(args: ValidationArguments): string {
  return typeof args.value === 'string' && isNaive(args.value) ? 'needs Z or an offset' : 'must be YYYY-MM-DD or a date-time with Z or an offset';
}

/** Whether a start/end value is a date-time without an offset (the "needs Z or an offset" case). */
export function isNaive(value: string): boolean {
  return NAIVE_DATE_TIME.test(value) && !/(Z|[+-]\d{2}:?\d{2})$/.test(value);
}
