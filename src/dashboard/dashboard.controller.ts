import { Controller, Get, Param, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { FastifyReply } from 'fastify';
import { Public } from '../auth/auth.decorators';
import { ApiErrors } from '../http/openapi';
import { DashboardAssetsService } from './dashboard-assets.service';
import { AssetParams } from './dto/asset-params.dto';

/**
 * Only same-origin files and calls (reports.md 8.1: sites run closed
 * networks). No 'unsafe-inline': the page has no inline script or style
 * (uPlot sizes its elements through the CSSOM, which CSP allows).
 */
export const DASHBOARD_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/** A year, and `immutable`: the name changes whenever the content does. */
const ASSET_CACHE = 'public, max-age=31536000, immutable';

/** `GET /dashboard` and `GET /dashboard/assets/{file}` (reports.md 8.1): no credential, no data. */
@ApiTags('dashboard')
@Controller('dashboard')
export class DashboardController {
  constructor(private readonly assets: DashboardAssetsService) {}

  @Public()
  @Get()
  @ApiOperation({ operationId: 'dashboard.page', summary: 'The dashboard page (HTML); its data comes from /reports/… with the token typed into it' })
  @ApiProduces('text/html')
  @ApiOkResponse({ description: 'The page', content: { 'text/html': { schema: { type: 'string' } } } })
  page(@Res() reply: FastifyReply) {
    // The page itself is revalidated every time: it names the current hashed assets.
    return securityHeaders(reply).type('text/html; charset=utf-8').header('Cache-Control', 'no-cache').send(this.assets.page);
  }

  @Public()
  @Get('assets/:file')
  @ApiOperation({ operationId: 'dashboard.asset', summary: "A script, style or chart-library file of the page, under its content-hashed name" })
  @ApiProduces('application/javascript', 'text/css')
  @ApiOkResponse({ description: 'The file', content: { 'application/javascript': { schema: { type: 'string' } }, 'text/css': { schema: { type: 'string' } } } })
  @ApiErrors('own', 400, 404)
  asset(@Param() params: AssetParams, @Res() reply: FastifyReply) {
    const asset = this.assets.asset(params.file);
    return securityHeaders(reply).type(asset.type).header('Cache-Control', ASSET_CACHE).send(asset.content);
  }
}

function securityHeaders(reply: FastifyReply): FastifyReply {
  return reply.header('Content-Security-Policy', DASHBOARD_CSP).header('X-Content-Type-Options', 'nosniff').header('Referrer-Policy', 'no-referrer');
}
