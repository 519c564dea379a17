import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { LimitParam } from '../../usage/dto/usage-query.dto';
import { ReportsInput } from '../../window/reports-input';

/** `GET /reports/projects` (reports.md §3.3): paged (§1.6) for every role but `user`. */
@ReportsInput()
export class ProjectsQueryDto {
  @LimitParam()
  limit?: number;

  @ApiPropertyOptional({ description: 'opaque cursor from the previous page (not for a user token: its list is not paged)' })
  @IsOptional()
  @IsString({ message: 'must be a string' })
  @MaxLength(4096, { message: 'is not a cursor of this report' })
  cursor?: string;
}
