import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length, Matches, ValidationArguments } from 'class-validator';
import { ReportsInput } from '../../../window/reports-input';
import { INSTANT_OR_DATE, isNaive } from '../../../window/window.dto';

/** Longest `reason` kept with a backfill window. */
export const MAX_REASON = 1000;

/** Each rule of a field says `required` when the field is absent, so whichever the policy reports names the real fault. */
const unlessMissing = (rule: (args: ValidationArguments) => string) => (args: ValidationArguments) => (args.value === undefined ? 'required' : rule(args));

const instantRule = unlessMissing((args) =>
  typeof args.value === 'string' && isNaive(args.value) ? 'needs Z or an offset' : 'must be YYYY-MM-DD or a date-time with Z or an offset',
);
const stringRule = unlessMissing(() => 'must be a string');
const reasonRule = unlessMissing(() => `must be a string of 1 to ${MAX_REASON} characters`);

/**
 * Body of `POST /admin/reports/backfills` (reports.md §5.4): every field
 * required. That `start` and `end` are starts of days of REPORT_TIME_ZONE,
 * `end` later than `start`, and `expires_at` later than now and at most 7
 * days ahead is checked in PostgreSQL (BackfillService).
 */
@ReportsInput()
export class CreateBackfillDto {
  @ApiProperty({ description: 'First instant admitted: the start of a day of REPORT_TIME_ZONE; a bare date `YYYY-MM-DD` means that start.', example: '2024-01-01' })
  @IsString({ message: stringRule })
  @Matches(INSTANT_OR_DATE, { message: instantRule })
  start: string;

  @ApiProperty({ description: 'End of the window (excluded): the start of a later day of REPORT_TIME_ZONE, same forms as start.', example: '2024-02-01' })
  @IsString({ message: stringRule })
  @Matches(INSTANT_OR_DATE, { message: instantRule })
  end: string;

  @ApiProperty({ minLength: 1, maxLength: MAX_REASON, description: 'Why writes into this window are admitted.', example: 'import of the 2024 Almanach history' })
  @IsString({ message: reasonRule })
  @Length(1, MAX_REASON, { message: reasonRule })
  reason: string;

  @ApiProperty({ description: 'When the permission ends: later than now, at most 7 days ahead (a date-time with Z or an offset, or a bare date: the start of that local day).', example: '2026-12-01T00:00:00Z' })
  @IsString({ message: stringRule })
  @Matches(INSTANT_OR_DATE, { message: instantRule })
  expires_at: string;
}
