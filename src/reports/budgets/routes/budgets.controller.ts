import { Body, Controller, Get, Headers, Param, Post, Put, Query, Req, StreamableFile, UseGuards, UseInterceptors } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { FastifyRequest } from 'fastify';
import { ALL_ROLES, Roles } from '../../../auth/auth.decorators';
import { ApiErrors, SECURITY_TOKEN } from '../../../http/openapi';
import { NoQueryGuard } from '../../catalogue/no-query.guard';
import { CsvExportService } from '../../export/csv-export.service';
import { negotiateFormat } from '../../export/csv-negotiation';
import { ApiIdempotencyKey } from '../../idempotency/api-idempotency-key.decorator';
import { ExactBodyInterceptor } from '../../rating/price-lists/exact-body.interceptor';
import { BudgetsService } from './budgets.service';
import { BudgetLedgerQuery, BudgetPolicyDto, BudgetProjectParams, GetBudgetQuery, ListBudgetsQuery, ManualEntryDto } from './dto/budgets.dto';
import { BudgetEntryView, BudgetLedgerView, BudgetListView, BudgetPolicyView, BudgetView } from './dto/budgets.views';

/** `GET /reports/budgets…` (reports.md 6.5): every role, a `user` only its own projects (1.3). */
@ApiTags('reports')
@ApiSecurity(SECURITY_TOKEN)
@ApiErrors('own', 401, 403, 503)
@Roles(...ALL_ROLES)
@Controller('reports/budgets')
export class BudgetsController {
  constructor(
    private readonly budgets: BudgetsService,
    private readonly csv: CsvExportService,
  ) {}

  @Get()
  @ApiOperation({ operationId: 'reports.listBudgets', summary: 'The budget of every project with a budget in its current period, by project id (JSON paged, or CSV)' })
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({ type: BudgetListView, description: 'JSON (paged), or with format=csv / Accept: text/csv every budget as CSV (the two lists as JSON text)' })
  @ApiErrors('own', 400, 429)
  async list(@Query() query: ListBudgetsQuery, @Req() req: FastifyRequest, @Headers('accept') accept?: string): Promise<BudgetListView | StreamableFile> {
    if (negotiateFormat(query, accept) === 'json') return this.budgets.list(req.principal!, query);
    const handover = await this.budgets.listExport(req.principal!, query);
    return this.csv.stream({ route: ['budgets'], ...handover, bom: query.bom === '1' });
  }

  @Get(':project_id')
  @ApiOperation({ operationId: 'reports.getBudget', summary: "The project's current budget (or the one starting at period_start), series=day adds a daily series" })
  @ApiOkResponse({ type: BudgetView })
  @ApiErrors('own', 400, 404)
  get(@Param() params: BudgetProjectParams, @Query() query: GetBudgetQuery, @Req() req: FastifyRequest): Promise<BudgetView> {
    return this.budgets.get(req.principal!, params.project_id, query);
  }

  @Get(':project_id/ledger')
  @ApiOperation({ operationId: 'reports.budgetLedger', summary: "A budget's ledger entries, oldest first by posted_at then id (JSON paged, or CSV)" })
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({ type: BudgetLedgerView, description: 'JSON (paged), or with format=csv / Accept: text/csv every entry as CSV' })
  @ApiErrors('own', 400, 404, 429)
  async ledger(@Param() params: BudgetProjectParams, @Query() query: BudgetLedgerQuery, @Req() req: FastifyRequest, @Headers('accept') accept?: string): Promise<BudgetLedgerView | StreamableFile> {
    if (negotiateFormat(query, accept) === 'json') return this.budgets.entries(req.principal!, params.project_id, query);
    const handover = await this.budgets.entriesExport(req.principal!, params.project_id, query);
    return this.csv.stream({ route: ['budgets', params.project_id, 'ledger'], ...handover, bom: query.bom === '1' });
  }
}

/** The budget writes under `/admin/reports/budgets` (reports.md 6.5): role admin, no query parameters. */
@ApiTags('admin')
@ApiSecurity(SECURITY_TOKEN)
@ApiErrors('admin', 401, 403, 503)
@Roles('admin')
@UseGuards(NoQueryGuard)
@UseInterceptors(ExactBodyInterceptor)
@Controller('admin/reports/budgets')
export class BudgetsAdminController {
  constructor(private readonly budgets: BudgetsService) {}

  @Post(':project_id/entries')
  @ApiOperation({ operationId: 'admin.addBudgetEntry', summary: 'A manual grant, credit or debit to the budget whose period holds at (default now)' })
  @ApiCreatedResponse({ type: BudgetEntryView })
  @ApiIdempotencyKey('admin')
  @ApiErrors('admin', 400, 404, 415)
  addEntry(@Param() params: BudgetProjectParams, @Body() body: ManualEntryDto, @Req() req: FastifyRequest): Promise<BudgetEntryView> {
    return this.budgets.addEntry(params.project_id, body, req.principal!);
  }

  @Put(':project_id/policy')
  @ApiOperation({ operationId: 'admin.putBudgetPolicy', summary: "Set a project's thresholds and overdraft ({} resets to the defaults)" })
  @ApiOkResponse({ type: BudgetPolicyView })
  @ApiErrors('admin', 400, 415)
  putPolicy(@Param() params: BudgetProjectParams, @Body() body: BudgetPolicyDto): Promise<BudgetPolicyView> {
    return this.budgets.putPolicy(params.project_id, body);
  }
}
