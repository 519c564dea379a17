import { Body, Controller, Get, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { FastifyRequest } from 'fastify';
import { Roles } from '../../../auth/auth.decorators';
import { ApiErrors, SECURITY_TOKEN } from '../../../http/openapi';
import { NoQueryGuard } from '../../catalogue/no-query.guard';
import { ApiIdempotencyKey } from '../../idempotency/api-idempotency-key.decorator';
import { BackfillService } from './backfill.service';
import { CreateBackfillDto } from './dto/backfill.dto';
import { BackfillListView, BackfillView } from './dto/backfill.views';

/** Backfill windows (reports.md §5.4): role admin; no token 401, another role 403. */
@ApiTags('admin')
@ApiSecurity(SECURITY_TOKEN)
@ApiErrors('admin', 401, 403, 503)
@Roles('admin')
@Controller('admin/reports/backfills')
export class BackfillController {
  constructor(private readonly backfills: BackfillService) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ operationId: 'reports.createBackfill', summary: 'Open a backfill window: writes into its days are accepted beyond the late-data horizon until it expires' })
  @ApiCreatedResponse({ type: BackfillView })
  @ApiIdempotencyKey('admin')
  @ApiErrors('admin', 400, 415)
  create(@Body() body: CreateBackfillDto, @Req() req: FastifyRequest): Promise<BackfillView> {
    return this.backfills.create({ start: body.start, end: body.end, reason: body.reason, expiresAt: body.expires_at, createdBy: req.principal!.name });
  }

  @Get()
  @UseGuards(NoQueryGuard)
  @ApiOperation({ operationId: 'reports.listBackfills', summary: 'List backfill windows: active first, then newest first' })
  @ApiOkResponse({ type: BackfillListView })
  @ApiErrors('admin', 400)
  list(): Promise<BackfillListView> {
    return this.backfills.list();
  }
}
