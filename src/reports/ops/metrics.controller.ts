import { Controller, Get, Res, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { FastifyReply } from 'fastify';
import { Public } from '../../auth/auth.decorators';
import { ApiErrors } from '../../http/openapi';
import { NoQueryGuard } from '../catalogue/no-query.guard';
import { MetricsService } from './metrics.service';

/** `GET /metrics` (reports.md §9.1): no credential; served by API processes only. */
@ApiTags('metrics')
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Public()
  @Get()
  @UseGuards(NoQueryGuard)
  @ApiOperation({ operationId: 'metrics', summary: 'Prometheus text exposition: per-process HTTP and report series, deployment totals and gauges read from PostgreSQL' })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'text/plain; version=0.0.4', schema: { type: 'string' } })
  @ApiErrors('own', 400, 503)
  async scrape(@Res() reply: FastifyReply): Promise<void> {
    const text = await this.metrics.exposition();
    void reply.status(200).header('Content-Type', this.metrics.contentType).send(text);
  }
}
