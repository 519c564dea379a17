import { ApiProperty } from '@nestjs/swagger';
import { JOB_STATES, JobState } from '../report-job.repository';
import { JOB_KINDS } from './jobs.dto';

/** `progress` of a job (reports.md 4.7). */
export class JobProgressView {
  @ApiProperty({ type: 'integer', nullable: true, description: 'Units of work (project-days; days for close_period); null until the job has started.', example: 365000 })
  total: number | null;

  @ApiProperty({ type: 'integer', example: 121000 })
  done: number;

  @ApiProperty({ type: String, nullable: true, description: 'done / total, 6 fractional digits; null until the total is known.', example: '0.331507' })
  ratio: string | null;

  @ApiProperty({ type: 'integer', nullable: true, description: 'Estimated seconds left; null until a chunk has finished.', example: 140 })
  eta_seconds: number | null;
}

/** One job (reports.md 4.7). */
export class JobView {
  @ApiProperty({ example: 'job_01JD0Q7W5N3XKZ4E2M8R6T9Y1B' })
  id: string;

  @ApiProperty({ type: String, description: `One of ${JOB_KINDS.join(', ')}.`, example: 'consistency_check' })
  kind: string;

  @ApiProperty({ enum: JOB_STATES, example: 'running' })
  state: JobState;

  @ApiProperty({ type: String, nullable: true })
  reason: string | null;

  @ApiProperty({ example: '2025-03-01T00:00:00.000Z' })
  created_at: string;

  @ApiProperty({ description: 'Name of the token that created the job; `system` for jobs the service starts itself.', example: 'ops' })
  created_by: string;

  @ApiProperty({ type: String, nullable: true })
  started_at: string | null;

  @ApiProperty({ type: String, nullable: true })
  finished_at: string | null;

  @ApiProperty({ type: 'object', additionalProperties: true, description: 'What the job covers; its fields depend on the kind.' })
  scope: Record<string, unknown>;

  @ApiProperty({ type: JobProgressView })
  progress: JobProgressView;

  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true, description: "The kind's result (so far, while running)." })
  result: Record<string, unknown> | null;

  @ApiProperty({ type: String, nullable: true, description: 'Why the job failed.' })
  error: string | null;
}

/** `GET /admin/reports/jobs` (reports.md 4.7, paging 1.6). */
export class JobListView {
  @ApiProperty({ type: [JobView] })
  jobs: JobView[];

  @ApiProperty({ type: String, nullable: true, description: 'Cursor of the next page; null on the last page.' })
  next_cursor: string | null;
}
