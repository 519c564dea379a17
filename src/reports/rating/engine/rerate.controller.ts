import { Body, Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { FastifyReply, FastifyRequest } from 'fastify';
import { Roles } from '../../../auth/auth.decorators';
import { ApiErrors, SECURITY_TOKEN } from '../../../http/openapi';
import { ApiIdempotencyKey } from '../../idempotency/api-idempotency-key.decorator';
import { JobView } from '../../jobs/dto/jobs.views';
import { RerateDto } from './dto/rerate.dto';
import { RerateService } from './rerate.service';

/** `POST /admin/reports/rerate` (reports.md 4.6): role admin. */
@ApiTags('admin')
@ApiSecurity(SECURITY_TOKEN)
@ApiErrors('admin', 401, 403, 503)
@Roles('admin')
@Controller('admin/reports/rerate')
export class RerateController {
  constructor(private readonly rerates: RerateService) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({ operationId: 'reports.rerate', summary: 'Re-rate a day-aligned window: a rerate job' })
  @ApiAcceptedResponse({ type: JobView, description: 'The job; Location names it under /admin/reports/jobs.' })
  @ApiIdempotencyKey('admin')
  @ApiErrors('admin', 400, 415)
  async start(@Body() body: RerateDto, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<JobView> {
    const job = await this.rerates.start({
      start: body.start,
      end: body.end,
      period: body.period,
      projectIds: body.project_ids,
      currencies: body.currencies,
      recomputeUsage: body.recompute_usage,
      reason: body.reason,
      createdBy: req.principal!.name,
    });
    reply.header('Location', `/admin/reports/jobs/${job.id}`);
    return job;
  }
}
