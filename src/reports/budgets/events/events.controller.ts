import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req, UseGuards } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { FastifyRequest } from 'fastify';
import { ALL_ROLES, Roles } from '../../../auth/auth.decorators';
import { ApiErrors, SECURITY_TOKEN } from '../../../http/openapi';
import { NoQueryGuard } from '../../catalogue/no-query.guard';
import { ApiIdempotencyKey } from '../../idempotency/api-idempotency-key.decorator';
import { CreateWebhookDto, EventsFeedQuery, WebhookIdParams } from './dto/events.dto';
import { CreatedWebhookView, EventsFeedView, WebhookListView } from './dto/events.views';
import { EventsService } from './events.service';

/** `GET /reports/events` (reports.md 6.7): every role, a `user` narrowed to its projects' events. */
@ApiTags('reports')
@ApiSecurity(SECURITY_TOKEN)
@ApiErrors('own', 401, 403, 503)
@Roles(...ALL_ROLES)
@Controller('reports/events')
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Get()
  @ApiOperation({ operationId: 'reports.events', summary: 'Events (threshold crossings and re-armings, closed periods, finished jobs) after an id, ascending' })
  @ApiOkResponse({ type: EventsFeedView })
  @ApiErrors('own', 400)
  feed(@Query() query: EventsFeedQuery, @Req() req: FastifyRequest): Promise<EventsFeedView> {
    return this.events.feed(req.principal!, query);
  }
}

/** `/admin/reports/webhooks` (reports.md 6.7): role admin; no token 401, another role 403. */
@ApiTags('admin')
@ApiSecurity(SECURITY_TOKEN)
@ApiErrors('admin', 401, 403, 503)
@Roles('admin')
@Controller('admin/reports/webhooks')
export class WebhooksController {
  constructor(private readonly events: EventsService) {}

  @Post()
  @HttpCode(201)
  @UseGuards(NoQueryGuard)
  @ApiOperation({ operationId: 'admin.createWebhook', summary: 'Register a webhook; the answer carries its signing secret, shown only here' })
  @ApiCreatedResponse({ type: CreatedWebhookView })
  @ApiIdempotencyKey('admin')
  @ApiErrors('admin', 400, 415)
  create(@Body() body: CreateWebhookDto): Promise<CreatedWebhookView> {
    return this.events.createWebhook(body);
  }

  @Get()
  @UseGuards(NoQueryGuard)
  @ApiOperation({ operationId: 'admin.listWebhooks', summary: 'Webhooks, oldest first, with their last success, last error and pending deliveries' })
  @ApiOkResponse({ type: WebhookListView })
  @ApiErrors('admin', 400)
  list(): Promise<WebhookListView> {
    return this.events.listWebhooks();
  }

  @Delete(':id')
  @HttpCode(204)
  @UseGuards(NoQueryGuard)
  @ApiOperation({ operationId: 'admin.deleteWebhook', summary: 'Remove a webhook and its pending deliveries' })
  @ApiNoContentResponse({ description: 'Removed' })
  @ApiErrors('admin', 400, 404)
  async remove(@Param() params: WebhookIdParams): Promise<void> {
    await this.events.removeWebhook(params.id);
  }
}
