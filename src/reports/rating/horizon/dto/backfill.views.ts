import { ApiProperty } from '@nestjs/swagger';

/** A backfill window (reports.md §5.4). */
export class BackfillView {
  @ApiProperty({ example: 'bf_01JD0Q7W5N3XKZ4E2M8R6T9Y1B' })
  id: string;

  @ApiProperty({ description: 'First instant admitted (the start of a day of REPORT_TIME_ZONE).', example: '2024-01-01T00:00:00.000Z' })
  start: string;

  @ApiProperty({ description: 'End of the window, excluded (the start of a day).', example: '2024-02-01T00:00:00.000Z' })
  end: string;

  @ApiProperty({ example: 'import of the 2024 Almanach history' })
  reason: string;

  @ApiProperty({ description: 'When writes into the window stop being admitted.', example: '2026-12-01T00:00:00.000Z' })
  expires_at: string;

  @ApiProperty({ example: '2026-11-30T12:00:00.000Z' })
  created_at: string;

  @ApiProperty({ description: 'Name of the token that opened the window.', example: 'ops' })
  created_by: string;

  @ApiProperty({ description: 'Whether the window admits writes now (expires_at later than now).' })
  active: boolean;
}

/** `GET /admin/reports/backfills`: active windows first, then newest first. */
export class BackfillListView {
  @ApiProperty({ type: [BackfillView] })
  backfills: BackfillView[];
}
