import { Body, Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { FastifyReply, FastifyRequest } from 'fastify';
import { Roles } from '../../auth/auth.decorators';
import { ApiErrors, SECURITY_TOKEN } from '../../http/openapi';
import { ApiIdempotencyKey } from '../idempotency/api-idempotency-key.decorator';
import { JobView } from '../jobs/dto/jobs.views';
import { ConsistencyCheckService } from './consistency-check.service';
import { CreateConsistencyCheckDto } from './dto/consistency-check.dto';

/** The consistency check (reports.md 7.5): role admin. */
@ApiTags('admin')
@ApiSecurity(SECURITY_TOKEN)
@ApiErrors('admin', 401, 403, 503)
@Roles('admin')
@Controller('admin/reports/consistency-checks')
export class ConsistencyCheckController {
  constructor(private readonly checks: ConsistencyCheckService) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({ operationId: 'reports.startConsistencyCheck', summary: 'Check (or repair, or rebuild) the rollups of a window: a consistency_check job' })
  @ApiAcceptedResponse({ type: JobView, description: 'The job; Location names it under /admin/reports/jobs.' })
  @ApiIdempotencyKey('admin')
  @ApiErrors('admin', 400, 415)
  async start(@Body() body: CreateConsistencyCheckDto, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<JobView> {
    const job = await this.checks.start({
      start: body.start,
      end: body.end,
      period: body.period,
      projectIds: body.project_ids,
      sample: body.sample,
      repair: body.repair,
      rebuild: body.rebuild,
      reason: body.reason,
      createdBy: req.principal!.name,
    });
    reply.header('Location', `/admin/reports/jobs/${job.id}`);
    return job;
  }
}
