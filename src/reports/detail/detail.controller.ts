import { Controller, Get, Query, Req } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { FastifyRequest } from 'fastify';
import { ALL_ROLES, Roles } from '../../auth/auth.decorators';
import { ApiErrors, SECURITY_TOKEN } from '../../http/openapi';
import { invalid } from '../window/reports-input';
import { DetailService } from './detail.service';
import { EntitiesQueryDto } from './dto/entities-query.dto';
import { DetailAnswerView } from './dto/entities.views';

/** `GET /reports/usage/entities` (reports.md §3.2): every role, a `user` narrowed to its projects (§1.3). */
@ApiTags('reports')
@ApiSecurity(SECURITY_TOKEN)
@Roles(...ALL_ROLES)
@Controller('reports')
export class DetailController {
  constructor(private readonly detail: DetailService) {}

  @Get('usage/entities')
  @ApiOperation({ operationId: 'reports.usageEntities', summary: 'Per-entity and per-record usage lines from raw history, clipped to the window' })
  @ApiOkResponse({ type: DetailAnswerView })
  @ApiErrors('own', 400, 401, 403)
  entities(@Req() req: FastifyRequest, @Query() query: EntitiesQueryDto): Promise<DetailAnswerView> {
    // The CSV form streams DetailService.export through the CSV exporter once it is part of the module.
    if (query.format === 'csv') throw invalid('format', 'csv is not served by this version yet; use json');
    return this.detail.entities(req.principal!, query);
  }
}
