import { Controller, Get, Query, Req } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { FastifyRequest } from 'fastify';
import { ALL_ROLES, Roles } from '../../auth/auth.decorators';
import { ApiErrors, SECURITY_TOKEN } from '../../http/openapi';
import { UsageQueryDto } from './dto/usage-query.dto';
import { UsageReportService } from './usage-report.service';

@ApiTags('reports')
@ApiSecurity(SECURITY_TOKEN)
@ApiErrors('own', 401, 403, 503)
@Controller('reports')
export class UsageReportController {
  constructor(private readonly reports: UsageReportService) {}

  @Roles(...ALL_ROLES)
  @Get('usage')
  @ApiOperation({ operationId: 'reports.usage', summary: 'Usage (and cost) per bucket, project, meter, key and subkey over a window' })
  @ApiOkResponse({ description: 'The report (reports.md §3.1): window, as_of, freshness, rows, totals over the whole result, next_cursor, warnings' })
  @ApiErrors('own', 400)
  usage(@Req() req: FastifyRequest, @Query() query: UsageQueryDto) {
    return this.reports.usage(req.principal!, query);
  }
}
