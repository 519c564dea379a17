import { Controller, Get, Query, Req, StreamableFile } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { FastifyRequest } from 'fastify';
import '../report-level';
import { ALL_ROLES, Roles } from '../../auth/auth.decorators';
import { ApiErrors, SECURITY_TOKEN } from '../../http/openapi';
import { CsvExportService } from '../export/csv-export.service';
import { negotiateFormat } from '../export/csv-negotiation';
import { DetailService } from './detail.service';
import { EntitiesQueryDto } from './dto/entities-query.dto';
import { DetailAnswerView } from './dto/entities.views';

/** `GET /reports/usage/entities` (reports.md §3.2): every role, a `user` narrowed to its projects (§1.3). */
@ApiTags('reports')
@ApiSecurity(SECURITY_TOKEN)
@Roles(...ALL_ROLES)
@Controller('reports')
export class DetailController {
  constructor(
    private readonly detail: DetailService,
    private readonly csv: CsvExportService,
  ) {}

  @Get('usage/entities')
  @ApiOperation({ operationId: 'reports.usageEntities', summary: 'Per-entity and per-record usage lines from raw history, clipped to the window' })
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({ type: DetailAnswerView, description: 'JSON (paged), or with format=csv / Accept: text/csv every line as CSV (§1.7)' })
  @ApiErrors('own', 400, 401, 403, 429)
  async entities(@Req() req: FastifyRequest, @Query() query: EntitiesQueryDto): Promise<DetailAnswerView | StreamableFile> {
    // Lines come from raw history only (§3.2): the level of ledger_report_duration_seconds.
    req.reportLevel = 'raw';
    if (negotiateFormat(query, req.headers.accept) === 'json') return this.detail.entities(req.principal!, query);
    const { window, ...handover } = await this.detail.export(req.principal!, query);
    return this.csv.stream({ route: 'usage/entities', window, ...handover, bom: query.bom === '1', settings: { jit: 'off' } });
  }
}
