import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsOptional, IsString, Length, Matches } from 'class-validator';
import { INSTANT_OR_DATE, PERIOD } from '../../../window/window.dto';
import { ReportsInput } from '../../../window/reports-input';

const instantMessage = 'must be YYYY-MM-DD or a date-time with Z or an offset';

/**
 * Body of `POST /admin/reports/rerate` (reports.md 4.6): the window as
 * `start`/`end` (day starts of the accounting zone: bare dates or instants)
 * or `period`, the projects and currencies (absent: all), whether usage
 * cells are rebuilt from raw first, and why.
 */
@ReportsInput()
export class RerateDto {
  @ApiPropertyOptional({ description: 'Window start: `YYYY-MM-DD` (start of that local day of REPORT_TIME_ZONE) or an instant that starts a local day. With `end`; not with `period`.', example: '2025-03-01' })
  @IsOptional()
  @IsString({ message: instantMessage })
  @Matches(INSTANT_OR_DATE, { message: instantMessage })
  start?: string;

  @ApiPropertyOptional({ description: 'Window end (excluded), same forms as `start`; not later than the start of today.', example: '2025-04-01' })
  @IsOptional()
  @IsString({ message: instantMessage })
  @Matches(INSTANT_OR_DATE, { message: instantMessage })
  end?: string;

  @ApiPropertyOptional({ description: 'A local year `YYYY`, month `YYYY-MM` or day `YYYY-MM-DD` of REPORT_TIME_ZONE, instead of start and end.', example: '2025-03' })
  @IsOptional()
  @IsString({ message: 'must be YYYY, YYYY-MM or YYYY-MM-DD' })
  @Matches(PERIOD, { message: 'must be YYYY, YYYY-MM or YYYY-MM-DD' })
  period?: string;

  @ApiPropertyOptional({ type: [String], minItems: 1, maxItems: 10000, description: 'Only these projects; absent: every project with usage in the window when the job starts.', example: ['p-123'] })
  @IsOptional()
  @IsArray({ message: 'must be a list of project ids' })
  @ArrayMinSize(1, { message: 'must name at least one project (leave it out for all)' })
  @ArrayMaxSize(10000, { message: 'must name at most 10000 projects' })
  @IsString({ each: true, message: 'must be a list of project ids' })
  @Length(1, 255, { each: true, message: 'each project id must be 1 to 255 characters' })
  project_ids?: string[];

  @ApiPropertyOptional({ type: [String], minItems: 1, description: 'Only these currencies (ISO 4217 or SU); absent: every currency that has a list.', example: ['EUR', 'SU'] })
  @IsOptional()
  @IsArray({ message: 'must be a list of currencies' })
  @ArrayMinSize(1, { message: 'must name at least one currency (leave it out for all)' })
  @ArrayMaxSize(100, { message: 'must name at most 100 currencies' })
  @Matches(/^([A-Z]{3}|SU)$/, { each: true, message: 'each must be a three-letter ISO 4217 code or SU' })
  currencies?: string[];

  @ApiPropertyOptional({ type: Boolean, default: false, description: 'Rebuild the usage day cells from raw history first (after a backfill of a source).' })
  @IsOptional()
  @IsBoolean({ message: 'must be true or false' })
  recompute_usage?: boolean;

  @ApiProperty({ type: String, minLength: 1, maxLength: 1000, description: "Why the re-rate runs; the job's reason." })
  @IsString({ message: 'required: a string of 1 to 1000 characters' })
  @Length(1, 1000, { message: 'required: a string of 1 to 1000 characters' })
  reason!: string;
}
