import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { JOB_STATES, JobState } from '../report-job.repository';
import { ReportsInput } from '../../window/reports-input';

/** The job kinds of reports.md 4.7 (the filter accepts them all, whichever this version can run). */
export const JOB_KINDS = ['rerate', 'correction', 'consistency_check', 'close_period'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

export const MAX_LIMIT = 10000;
export const DEFAULT_LIMIT = 1000;

/** A whole number written in decimal digits becomes a number; anything else stays as sent and fails the rule. */
const toWholeNumber = ({ value }: { value: unknown }) => (typeof value === 'string' && /^\d{1,12}$/.test(value) ? Number(value) : value);

/** Query of `GET /admin/reports/jobs` (reports.md 4.7, paging 1.6). */
@ReportsInput()
export class ListJobsQuery {
  @ApiPropertyOptional({ enum: JOB_KINDS, description: 'Only jobs of this kind.' })
  @IsOptional()
  @IsIn(JOB_KINDS, { message: `must be one of ${JOB_KINDS.join(', ')}` })
  kind?: JobKind;

  @ApiPropertyOptional({ enum: JOB_STATES, description: 'Only jobs in this state.' })
  @IsOptional()
  @IsIn(JOB_STATES, { message: `must be one of ${JOB_STATES.join(', ')}` })
  state?: JobState;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT, description: 'Page size; more than 10000 is a 400, never clamped.' })
  @IsOptional()
  @Transform(toWholeNumber)
  @IsInt({ message: `must be a whole number from 1 to ${MAX_LIMIT}` })
  @Min(1, { message: `must be a whole number from 1 to ${MAX_LIMIT}` })
  @Max(MAX_LIMIT, { message: `must be a whole number from 1 to ${MAX_LIMIT}` })
  limit?: number;

  @ApiPropertyOptional({ description: "The previous page's next_cursor; only valid with the same kind and state." })
  @IsOptional()
  @IsString({ message: 'must be a string' })
  @Length(1, 1000, { message: 'not a cursor of this list' })
  cursor?: string;
}

/** Path of `/admin/reports/jobs/{id}`; an id that names no job is a 404, whatever its form. */
@ReportsInput()
export class JobIdParams {
  @ApiProperty({ description: 'The job id (`job_…`).', example: 'job_01JD0Q7W5N3XKZ4E2M8R6T9Y1B' })
  @IsString({ message: 'must be a string' })
  id: string;
}
