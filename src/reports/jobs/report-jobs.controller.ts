import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { Roles } from '../../auth/auth.decorators';
import { ApiErrors, SECURITY_TOKEN } from '../../http/openapi';
import { ApiIdempotencyKey } from '../idempotency/api-idempotency-key.decorator';
import { JobIdParams, ListJobsQuery } from './dto/jobs.dto';
import { JobListView, JobView } from './dto/jobs.views';
import { ReportJobsAdminService } from './report-jobs-admin.service';

/** Report jobs (reports.md 4.7): role admin; no token 401, another role 403. */
@ApiTags('admin')
@ApiSecurity(SECURITY_TOKEN)
@ApiErrors('admin', 401, 403, 503)
@Roles('admin')
@Controller('admin/reports/jobs')
export class ReportJobsController {
  constructor(private readonly jobs: ReportJobsAdminService) {}

  @Get()
  @ApiOperation({ operationId: 'reports.listJobs', summary: 'List report jobs, newest first' })
  @ApiOkResponse({ type: JobListView })
  @ApiErrors('admin', 400)
  list(@Query() query: ListJobsQuery): Promise<JobListView> {
    return this.jobs.list(query);
  }

  @Get(':id')
  @ApiOperation({ operationId: 'reports.getJob', summary: 'One report job with its progress and result' })
  @ApiOkResponse({ type: JobView })
  @ApiErrors('admin', 404)
  get(@Param() params: JobIdParams): Promise<JobView> {
    return this.jobs.get(params.id);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @ApiOperation({ operationId: 'reports.cancelJob', summary: 'Cancel a job: it stops at its next chunk boundary' })
  @ApiOkResponse({ type: JobView })
  @ApiIdempotencyKey('admin')
  @ApiErrors('admin', 404, 409)
  cancel(@Param() params: JobIdParams): Promise<JobView> {
    return this.jobs.cancel(params.id);
  }
}
