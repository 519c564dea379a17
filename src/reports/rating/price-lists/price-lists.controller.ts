import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Req, Res, StreamableFile, UseGuards, UseInterceptors } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBody,
  ApiCreatedResponse,
  ApiExtraModels,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiSecurity,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { FastifyReply, FastifyRequest } from 'fastify';
import { ALL_ROLES, Roles } from '../../../auth/auth.decorators';
import { ApiErrors, SECURITY_TOKEN } from '../../../http/openapi';
import { NoQueryGuard } from '../../catalogue/no-query.guard';
import { CsvExportService } from '../../export/csv-export.service';
import { negotiateFormat } from '../../export/csv-negotiation';
import { ApiIdempotencyKey } from '../../idempotency/api-idempotency-key.decorator';
import {
  AddPriceItemsDto,
  CorrectionDto,
  CreatePriceListDto,
  GetPriceListQuery,
  ListPriceListsQuery,
  PatchPriceItemDto,
  PatchPriceListDto,
  PriceItemDto,
  PriceItemParams,
  PriceListAuditQuery,
  PriceListIdParams,
} from './dto/price-list.dto';
import {
  AuditListView,
  CorrectionAnswerView,
  CreatedItemsView,
  CreatedPriceListView,
  PatchedItemView,
  PriceListDetailView,
  PriceListListView,
  PriceListView,
} from './dto/price-list.views';
import { ExactBodyInterceptor } from './exact-body.interceptor';
import { ItemsBody, ItemsBodyPipe } from './items-body.pipe';
import { PriceItemsService } from './price-items.service';
import { PriceListsService } from './price-lists.service';

/** `GET /reports/price-lists…` (reports.md 4.2, 4.4): every role but the audit, which a `user` may not read. */
@ApiTags('reports')
@ApiSecurity(SECURITY_TOKEN)
@ApiErrors('own', 401, 403, 503)
@Controller('reports/price-lists')
export class PriceListsController {
  constructor(
    private readonly lists: PriceListsService,
    private readonly csv: CsvExportService,
  ) {}

  @Get()
  @Roles(...ALL_ROLES)
  @ApiOperation({ operationId: 'reports.listPriceLists', summary: 'Price lists by name; a user sees the defaults and the lists naming its projects' })
  @ApiOkResponse({ type: PriceListListView })
  @ApiErrors('own', 400)
  list(@Query() query: ListPriceListsQuery, @Req() req: FastifyRequest): Promise<PriceListListView> {
    return this.lists.lists(req.principal!, query);
  }

  @Get(':id')
  @Roles(...ALL_ROLES)
  @ApiOperation({ operationId: 'reports.getPriceList', summary: 'A price list and its items (at: those in force then; state: those in it)' })
  @ApiOkResponse({ type: PriceListDetailView })
  @ApiErrors('own', 400, 404)
  get(@Param() params: PriceListIdParams, @Query() query: GetPriceListQuery, @Req() req: FastifyRequest): Promise<PriceListDetailView> {
    return this.lists.get(req.principal!, params.id, query);
  }

  @Get(':id/audit')
  @Roles('admin', 'reader', 'service')
  @ApiOperation({ operationId: 'reports.priceListAudit', summary: 'Audit entries of a price list and its items, oldest first (JSON paged, or CSV)' })
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({ type: AuditListView, description: 'JSON (paged), or with format=csv / Accept: text/csv every entry as CSV (before and after as JSON text)' })
  @ApiErrors('own', 400, 404, 429)
  async audit(@Param() params: PriceListIdParams, @Query() query: PriceListAuditQuery, @Req() req: FastifyRequest): Promise<AuditListView | StreamableFile> {
    if (negotiateFormat(query, req.headers.accept) === 'json') return this.lists.audit(params.id, query);
    const handover = await this.lists.auditExport(params.id);
    return this.csv.stream({ route: ['price-lists', params.id, 'audit'], ...handover, bom: query.bom === '1' });
  }
}

/** The price writes under `/admin/reports/price-lists` (reports.md 4.2, 4.3): role admin; one transaction and its audit entries each; no query parameters. */
@ApiTags('admin')
@ApiSecurity(SECURITY_TOKEN)
@ApiErrors('admin', 401, 403, 503)
@Roles('admin')
@UseGuards(NoQueryGuard)
@UseInterceptors(ExactBodyInterceptor)
@Controller('admin/reports/price-lists')
export class PriceListsAdminController {
  constructor(
    private readonly lists: PriceListsService,
    private readonly items: PriceItemsService,
  ) {}

  @Post()
  @ApiOperation({ operationId: 'admin.createPriceList', summary: 'Create a price list, with items; past days they price queue a rerate job' })
  @ApiCreatedResponse({ type: CreatedPriceListView })
  @ApiIdempotencyKey('admin')
  @ApiErrors('admin', 400, 409, 415)
  create(@Body() body: CreatePriceListDto, @Req() req: FastifyRequest): Promise<CreatedPriceListView> {
    return this.lists.create(body, req.principal!);
  }

  @Patch(':id')
  @ApiOperation({ operationId: 'admin.patchPriceList', summary: 'Rename, describe or re-scope a price list (project_ids: 409 once an item has begun)' })
  @ApiOkResponse({ type: PriceListView })
  @ApiErrors('admin', 400, 404, 409, 415)
  patch(@Param() params: PriceListIdParams, @Body() body: PatchPriceListDto, @Req() req: FastifyRequest): Promise<PriceListView> {
    return this.lists.patch(params.id, body, req.principal!);
  }

  @Post(':id/items')
  @ApiOperation({ operationId: 'admin.addPriceItems', summary: 'Add one item, or {"items": [...]} in one transaction; past days they price queue a rerate job' })
  @ApiExtraModels(PriceItemDto, AddPriceItemsDto)
  @ApiBody({ schema: { oneOf: [{ $ref: getSchemaPath(PriceItemDto) }, { $ref: getSchemaPath(AddPriceItemsDto) }] } })
  @ApiCreatedResponse({ type: CreatedItemsView })
  @ApiIdempotencyKey('admin')
  @ApiErrors('admin', 400, 404, 409, 415)
  add(@Param() params: PriceListIdParams, @Body(ItemsBodyPipe) body: ItemsBody, @Req() req: FastifyRequest): Promise<CreatedItemsView> {
    return this.items.add(params.id, body.items, body.single, req.principal!);
  }

  @Patch(':id/items/:item_id')
  @ApiOperation({ operationId: 'admin.patchPriceItem', summary: 'Change an item under the immutability rules of reports.md 4.3' })
  @ApiOkResponse({ type: PatchedItemView })
  @ApiErrors('admin', 400, 404, 409, 415)
  patchItem(@Param() params: PriceItemParams, @Body() body: PatchPriceItemDto, @Req() req: FastifyRequest): Promise<PatchedItemView> {
    return this.items.patch(params.id, params.item_id, body, req.principal!);
  }

  @Delete(':id/items/:item_id')
  @HttpCode(204)
  @ApiOperation({ operationId: 'admin.deletePriceItem', summary: 'Delete a scheduled item (409 once it has begun)' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors('admin', 400, 404, 409)
  async remove(@Param() params: PriceItemParams, @Req() req: FastifyRequest): Promise<void> {
    await this.items.remove(params.id, params.item_id, req.principal!);
  }

  @Post(':id/corrections')
  @HttpCode(202)
  @ApiOperation({ operationId: 'admin.correctPrices', summary: 'Supersede items and insert their replacements; queues a correction job for past days' })
  @ApiAcceptedResponse({ type: CorrectionAnswerView, description: 'Location names the job under /admin/reports/jobs when there is one.' })
  @ApiIdempotencyKey('admin')
  @ApiErrors('admin', 400, 404, 409, 415)
  async correct(@Param() params: PriceListIdParams, @Body() body: CorrectionDto, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<CorrectionAnswerView> {
    const answer = await this.items.correct(params.id, body, req.principal!);
    if (answer.job) reply.header('Location', `/admin/reports/jobs/${answer.job.id}`);
    return answer;
  }
}
