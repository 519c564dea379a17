import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Micros } from '../almanach-dates';
import { AlmanachInput, API_QUERY_DATE, IfSent, Present, QueryDate } from './almanach-input';

/** GET /v1/project/{project_id}/instances, /volumes, /entities (5.6). */
@AlmanachInput()
export class WindowQueryDto {
  @ApiProperty({ ...API_QUERY_DATE, description: 'Start of the window (inclusive); required' })
  @Present()
  @QueryDate()
  start: Micros;

  @ApiPropertyOptional({ ...API_QUERY_DATE, description: 'End of the window (inclusive); default now', example: '2016-02-01 00:00:00.000000' })
  @IfSent()
  @QueryDate()
  end?: Micros;
}
