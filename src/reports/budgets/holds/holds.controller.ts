import { Body, Controller, Get, HttpCode, Param, Post, Req, Res, UseGuards, UseInterceptors } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiResponse, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { FastifyReply, FastifyRequest } from 'fastify';
import { ALL_ROLES, Roles } from '../../../auth/auth.decorators';
import { ApiErrors, SECURITY_TOKEN } from '../../../http/openapi';
import { NoQueryGuard } from '../../catalogue/no-query.guard';
import { ApiIdempotencyKey } from '../../idempotency/api-idempotency-key.decorator';
import { ExactBodyInterceptor } from '../../rating/price-lists/exact-body.interceptor';
import { CreateHoldDto, HoldParams, HoldProjectParams, RefundHoldDto, SettleHoldDto } from './dto/holds.dto';
import { HoldView } from './dto/holds.views';
import { HoldsService } from './holds.service';

/**
 * Budget holds (reports.md 6.4): `admin` and `service` place and resolve
 * them (a scheduler reserving budget before a job runs); every role reads,
 * a `user` only its own projects (1.2, 1.3). No query parameters. JSON
 * numbers in bodies are read from their text (1.4).
 */
@ApiTags('reports')
@ApiSecurity(SECURITY_TOKEN)
@ApiErrors('own', 401, 403, 503)
@UseGuards(NoQueryGuard)
@UseInterceptors(ExactBodyInterceptor)
@Controller('reports/budgets/:project_id/holds')
export class HoldsController {
  constructor(private readonly holds: HoldsService) {}

  @Post()
  @Roles('admin', 'service')
  @ApiOperation({
    operationId: 'reports.createHold',
    summary: 'Hold SU of the current budget: 201, or 200 with the same hold for a repeat of its reference and body; 409 when available + overdraft < amount',
  })
  @ApiCreatedResponse({ type: HoldView })
  @ApiOkResponse({ type: HoldView, description: 'A repeat of the reference with the same body: the existing hold, whatever its state.' })
  @ApiIdempotencyKey('own')
  @ApiResponse({
    status: 409,
    description: 'Insufficient budget (with `available`, without the overdraft, and `requested`); the reference used with another body; the AMIE record loaded or held',
    content: {
      'application/json': {
        schema: { type: 'object', required: ['error'], properties: { error: { type: 'string' }, available: { type: 'string' }, requested: { type: 'string' } } },
      },
    },
  })
  @ApiErrors('own', 400, 404, 415)
  async create(@Param() params: HoldProjectParams, @Body() body: CreateHoldDto, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<HoldView> {
    const { hold, replayed } = await this.holds.create(params.project_id, body, req.principal!.name);
    void reply.status(replayed ? 200 : 201);
    return hold;
  }

  @Get(':hold_id')
  @Roles(...ALL_ROLES)
  @ApiOperation({ operationId: 'reports.getHold', summary: 'A hold of the project' })
  @ApiOkResponse({ type: HoldView })
  @ApiErrors('own', 400, 404)
  get(@Param() params: HoldParams, @Req() req: FastifyRequest): Promise<HoldView> {
    return this.holds.get(req.principal!, params.project_id, params.hold_id);
  }

  @Post(':hold_id/settle')
  @HttpCode(200)
  @Roles('admin', 'service')
  @ApiOperation({ operationId: 'reports.settleHold', summary: 'Settle a held hold: release it and debit amount (default the held amount; ≥ 0, more or less than held)' })
  @ApiOkResponse({ type: HoldView })
  @ApiIdempotencyKey('own')
  @ApiErrors('own', 404, 415)
  settle(@Param() params: HoldParams, @Body() body: SettleHoldDto, @Req() req: FastifyRequest): Promise<HoldView> {
    // No body (the DTO allows it) is the held amount.
    return this.holds.settle(params.project_id, params.hold_id, body ?? {}, req.principal!.name);
  }

  @Post(':hold_id/release')
  @HttpCode(200)
  @Roles('admin', 'service')
  @ApiOperation({ operationId: 'reports.releaseHold', summary: 'Release a held hold without a debit' })
  @ApiOkResponse({ type: HoldView })
  @ApiIdempotencyKey('own')
  @ApiErrors('own', 404)
  release(@Param() params: HoldParams, @Req() req: FastifyRequest): Promise<HoldView> {
    return this.holds.release(params.project_id, params.hold_id, req.principal!.name);
  }

  @Post(':hold_id/refund')
  @HttpCode(200)
  @Roles('admin', 'service')
  @ApiOperation({ operationId: 'reports.refundHold', summary: 'Give back part or all of what a settled hold debited (default: the rest not yet refunded); reason required' })
  @ApiOkResponse({ type: HoldView })
  @ApiIdempotencyKey('own')
  @ApiErrors('own', 404, 415)
  refund(@Param() params: HoldParams, @Body() body: RefundHoldDto, @Req() req: FastifyRequest): Promise<HoldView> {
    return this.holds.refund(params.project_id, params.hold_id, body, req.principal!.name);
  }
}
