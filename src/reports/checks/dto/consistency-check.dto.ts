import { ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsInt, IsOptional, IsString, Length, Max, Min, ValidateBy, ValidationOptions } from 'class-validator';
import { ReportsInput } from '../../window/reports-input';
import { daysBetween, isDay, isPeriod } from '../check-window';

export const MAX_SAMPLE = 100_000;
/** The longest window one check or rebuild covers (about ten years). */
export const MAX_WINDOW_DAYS = 3660;

/** A rule on the whole body, reported on one field. */
function Holds(name: string, check: (dto: CreateConsistencyCheckDto) => boolean, options: ValidationOptions): PropertyDecorator {
  return ValidateBy({ name, validator: { validate: (_value, args) => check(args!.object as CreateConsistencyCheckDto) } }, options);
}

const dayRule = (value: unknown) => value === undefined || (typeof value === 'string' && isDay(value));

/**
 * Body of `POST /admin/reports/consistency-checks` (reports.md 7.5): the
 * window as local days of the accounting zone, `start`/`end` (end excluded)
 * or `period`, never both.
 */
@ReportsInput()
export class CreateConsistencyCheckDto {
  @ApiPropertyOptional({ description: 'First local day checked, `YYYY-MM-DD` (its start in REPORT_TIME_ZONE). With `end`; not with `period`.', example: '2025-03-01' })
  @Holds('startRule', (dto) => dayRule(dto.start), { message: 'must be a day YYYY-MM-DD' })
  @Holds('startNeeded', (dto) => dto.start !== undefined || dto.period !== undefined, { message: 'required (or period)' })
  @Holds('startNotWithPeriod', (dto) => dto.start === undefined || dto.period === undefined, { message: 'not with period' })
  start?: string;

  @ApiPropertyOptional({ description: 'The local day after the last one checked, `YYYY-MM-DD` (the window is half-open). With `start`.', example: '2025-04-01' })
  @Holds('endRule', (dto) => dayRule(dto.end), { message: 'must be a day YYYY-MM-DD' })
  @Holds('endNeeded', (dto) => dto.start === undefined || dto.end !== undefined, { message: 'required with start' })
  @Holds('endNotWithPeriod', (dto) => dto.end === undefined || dto.period === undefined, { message: 'not with period' })
  @Holds('endAfterStart', (dto) => !(dayRule(dto.start) && dayRule(dto.end) && dto.start && dto.end) || dto.end > dto.start, { message: 'must be later than start' })
  @Holds(
    'endWindow',
    (dto) => !(dayRule(dto.start) && dayRule(dto.end) && dto.start && dto.end && dto.end > dto.start) || daysBetween(dto.start, dto.end) <= MAX_WINDOW_DAYS,
    { message: `the window may cover at most ${MAX_WINDOW_DAYS} days` },
  )
  end?: string;

  @ApiPropertyOptional({ description: 'A local year `YYYY`, month `YYYY-MM` or day `YYYY-MM-DD`, instead of start and end.', example: '2025-03' })
  @IsOptional()
  @IsString({ message: 'must be YYYY, YYYY-MM or YYYY-MM-DD' })
  @Holds('periodRule', (dto) => typeof dto.period !== 'string' || isPeriod(dto.period), { message: 'must be YYYY, YYYY-MM or YYYY-MM-DD' })
  period?: string;

  @ApiPropertyOptional({ type: [String], minItems: 1, maxItems: 10000, description: 'Only these projects; default every project with data in the window.', example: ['p-123'] })
  @IsOptional()
  @IsArray({ message: 'must be a list of project ids' })
  @ArrayMinSize(1, { message: 'must name at least one project (leave it out for all)' })
  @ArrayMaxSize(10000, { message: 'must name at most 10000 projects' })
  @IsString({ each: true, message: 'must be a list of project ids' })
  @Length(1, 255, { each: true, message: 'each project id must be 1 to 255 characters' })
  project_ids?: string[];

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_SAMPLE, description: 'Check this many random project-days (with data) instead of all.' })
  @IsOptional()
  @IsInt({ message: `must be a whole number from 1 to ${MAX_SAMPLE}` })
  @Min(1, { message: `must be a whole number from 1 to ${MAX_SAMPLE}` })
  @Max(MAX_SAMPLE, { message: `must be a whole number from 1 to ${MAX_SAMPLE}` })
  sample?: number;

  @ApiPropertyOptional({ type: Boolean, description: 'Mark each mismatched key dirty, so that the rollup worker recomputes it.' })
  @IsOptional()
  @IsBoolean({ message: 'must be true or false' })
  repair?: boolean;

  @ApiPropertyOptional({ type: Boolean, description: 'Check nothing: mark every key of the window dirty (not with sample).' })
  @IsOptional()
  @IsBoolean({ message: 'must be true or false' })
  @Holds('rebuildNoSample', (dto) => dto.rebuild !== true || dto.sample === undefined, { message: 'not with sample' })
  rebuild?: boolean;

  @ApiPropertyOptional({ type: String, minLength: 1, maxLength: 1000, description: "Why the check runs; the job's reason." })
  @IsOptional()
  @IsString({ message: 'must be a string of 1 to 1000 characters' })
  @Length(1, 1000, { message: 'must be a string of 1 to 1000 characters' })
  reason?: string;
}

