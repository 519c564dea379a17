import { Controller, Get, Headers, Query, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { FastifyReply, FastifyRequest } from 'fastify';
import { ALL_ROLES, Roles } from '../../auth/auth.decorators';
import { jsonText } from '../../http/json-text';
import { ApiErrors, SECURITY_TOKEN } from '../../http/openapi';
import { CsvExportService } from '../export/csv-export.service';
import { negotiateFormat } from '../export/csv-negotiation';
import '../report-level';
import { UsageQueryDto } from './dto/usage-query.dto';
import { UsageReportService } from './usage-report.service';

@ApiTags('reports')
@ApiSecurity(SECURITY_TOKEN)
@ApiErrors('own', 401, 403, 503)
@Controller('reports')
export class UsageReportController {
  constructor(
    private readonly reports: UsageReportService,
    private readonly exports: CsvExportService,
  ) {}

  @Roles(...ALL_ROLES)
  @Get('usage')
  @ApiOperation({ operationId: 'reports.usage', summary: 'Usage (and cost) per bucket, project, meter, key and subkey over a window' })
  @ApiOkResponse({
    description: 'The report (reports.md §3.1): window, as_of, freshness, rows, totals over the whole result, next_cursor, warnings; with format=csv or Accept: text/csv, the rows as a streamed CSV file',
    content: { 'application/json': { schema: { type: 'object' } }, 'text/csv': { schema: { type: 'string' } } },
  })
  @ApiErrors('own', 400, 429)
  async usage(@Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @Query() query: UsageQueryDto, @Headers('accept') accept?: string) {
    // The level that answered goes to ledger_report_duration_seconds (MetricsService).
    if (negotiateFormat(query, accept) === 'csv') {
      const { csv, level } = await this.reports.usageCsv(req.principal!, query);
      req.reportLevel = level;
      return this.exports.stream(csv);
    }
    // The answer comes as JSON text (UsageReportService.usage); its lines are counted here, where
    // MetricsService's preSerialization hook, which never sees a text, would count an object's.
    const { json, rows, level } = await this.reports.usage(req.principal!, query);
    req.reportLevel = level;
    req.reportRows = rows;
    return jsonText(reply, json);
  }
}
