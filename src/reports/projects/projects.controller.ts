import { Controller, Get, Query, Req, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { FastifyRequest } from 'fastify';
import { ALL_ROLES, Roles } from '../../auth/auth.decorators';
import { ApiErrors, SECURITY_TOKEN } from '../../http/openapi';
import { ProjectsQueryDto } from './dto/projects-query.dto';
import { PeriodsAnswerView, ProjectsAnswerView } from './dto/projects.views';
import { NoQueryGuard } from '../catalogue/no-query.guard';
import { ProjectsService } from './projects.service';

/** `GET /reports/projects` (§3.3) and `GET /reports/periods` (§3.4): every role, a `user` narrowed to its projects (§1.3). */
@ApiTags('reports')
@ApiSecurity(SECURITY_TOKEN)
@Roles(...ALL_ROLES)
@Controller('reports')
export class ProjectsController {
  constructor(private readonly projects: ProjectsService) {}

  @Get('projects')
  @ApiOperation({ operationId: 'reports.projects', summary: 'Projects visible to the caller with usage or an allocation, with their first and last usage day' })
  @ApiOkResponse({ type: ProjectsAnswerView })
  @ApiErrors('own', 400, 401)
  list(@Req() req: FastifyRequest, @Query() query: ProjectsQueryDto): Promise<ProjectsAnswerView> {
    return this.projects.projects(req.principal!, query);
  }

  @Get('periods')
  @UseGuards(NoQueryGuard)
  @ApiOperation({ operationId: 'reports.periods', summary: 'Accounting periods (months of REPORT_TIME_ZONE) from the first with data to the current one, newest first' })
  @ApiOkResponse({ type: PeriodsAnswerView })
  @ApiErrors('own', 400, 401)
  periods(@Req() req: FastifyRequest): Promise<PeriodsAnswerView> {
    return this.projects.periods(req.principal!);
  }
}
