import { ApiProperty } from '@nestjs/swagger';

export class ProjectView {
  @ApiProperty({ example: 'p-123' }) project_id: string;
  @ApiProperty({ type: String, nullable: true, description: 'project_name of the current, non-deleted allocation record', example: 'climate-sim' }) name: string | null;
  @ApiProperty({ type: Number, nullable: true, description: 'id of that allocation record', example: 42 }) allocation_id: number | null;
  @ApiProperty({ type: String, nullable: true, description: 'first local day (REPORT_TIME_ZONE) with a usage cell', example: '2025-03-01' }) first_usage: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'last local day with a usage cell', example: '2025-03-31' }) last_usage: string | null;
}

export class ProjectsAnswerView {
  @ApiProperty({ enum: ['admin', 'reader', 'service', 'user'], description: "the calling token's role" }) role: string;
  @ApiProperty({ description: 'REPORT_TIME_ZONE', example: 'Europe/Berlin' }) time_zone: string;
  @ApiProperty({ type: [ProjectView] }) projects: ProjectView[];
  @ApiProperty({ type: String, nullable: true, description: 'null on the last page, and always for a user token (not paged)' }) next_cursor: string | null;
}

export class PeriodView {
  @ApiProperty({ example: '2025-03' }) period: string;
  @ApiProperty({ example: '2025-02-28T23:00:00.000Z' }) start: string;
  @ApiProperty({ example: '2025-03-31T22:00:00.000Z' }) end: string;
  @ApiProperty({ enum: ['open', 'closing', 'closed'] }) state: 'open' | 'closing' | 'closed';
  @ApiProperty({ type: String, nullable: true }) closed_at: string | null;
  @ApiProperty({ type: String, nullable: true }) closed_by: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'null when automatic close is off or the period is closed' }) auto_close_at: string | null;
}

export class PeriodsAnswerView {
  @ApiProperty({ type: [PeriodView], description: 'newest first, from the first period with data to the current one' }) periods: PeriodView[];
}
