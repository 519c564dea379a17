import { Controller, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { FastifyReply, FastifyRequest } from 'fastify';
import { Roles } from '../../../auth/auth.decorators';
import { ApiErrors, SECURITY_TOKEN } from '../../../http/openapi';
import { ApiIdempotencyKey } from '../../idempotency/api-idempotency-key.decorator';
import { JobView } from '../../jobs/dto/jobs.views';
import { PeriodParams } from './dto/period-params.dto';
import { PeriodsService } from './periods.service';

/** Closing periods (reports.md 5.2): role admin. */
@ApiTags('admin')
@ApiSecurity(SECURITY_TOKEN)
@ApiErrors('admin', 401, 403, 503)
@Roles('admin')
@Controller('admin/reports/periods')
export class PeriodsController {
  constructor(private readonly periods: PeriodsService) {}

  @Post(':period/close')
  @HttpCode(202)
  @ApiOperation({ operationId: 'reports.closePeriod', summary: 'Close a month: a close_period job waits for its pending cells, then freezes its figures' })
  @ApiAcceptedResponse({ type: JobView, description: 'The close_period job; Location names it under /admin/reports/jobs.' })
  @ApiIdempotencyKey('admin')
  @ApiErrors('admin', 400, 409)
  async close(@Param() params: PeriodParams, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<JobView> {
    const job = await this.periods.close(params.period, req.principal!.name);
    reply.header('Location', `/admin/reports/jobs/${job.id}`);
    return job;
  }
}
