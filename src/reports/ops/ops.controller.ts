import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { Roles } from '../../auth/auth.decorators';
import { ApiErrors, SECURITY_TOKEN } from '../../http/openapi';
import { NoQueryGuard } from '../catalogue/no-query.guard';
import { AmieFailuresQueryDto, OpsQueuesQueryDto } from './dto/ops-query.dto';
import { FailuresView, FreshnessView, QueuesView } from './dto/ops.views';
import { OpsService } from './ops.service';

/** The operations views (reports.md §9.2): roles admin, reader and service; a `user` is refused (403). */
@ApiTags('reports')
@ApiSecurity(SECURITY_TOKEN)
@Roles('admin', 'reader', 'service')
@ApiErrors('own', 401, 403)
@Controller('reports')
export class OpsController {
  constructor(private readonly ops: OpsService) {}

  @Get('ops/freshness')
  @UseGuards(NoQueryGuard)
  @ApiOperation({ operationId: 'reports.opsFreshness', summary: 'Last accepted event per source, site and collector, with silence flags, and the rollup lag' })
  @ApiOkResponse({ type: FreshnessView })
  @ApiErrors('own', 400)
  freshness(): Promise<FreshnessView> {
    return this.ops.freshness();
  }

  @Get('ops/queues')
  @ApiOperation({ operationId: 'reports.opsQueues', summary: 'Queue depth now and, with history, the 15-second samples of the last span (at most 7 days)' })
  @ApiOkResponse({ type: QueuesView })
  @ApiErrors('own', 400)
  queues(@Query() query: OpsQueuesQueryDto): Promise<QueuesView> {
    return this.ops.queues(query.history);
  }

  @Get('amie/failures')
  @ApiOperation({ operationId: 'reports.amieFailures', summary: 'Outstanding failed AMIE records across sites, grouped by site, resource, error and usage type' })
  @ApiOkResponse({ type: FailuresView })
  @ApiErrors('own', 400)
  failures(@Query() query: AmieFailuresQueryDto): Promise<FailuresView> {
    return this.ops.failures({ site: query.site, resource: query.resource });
  }
}
