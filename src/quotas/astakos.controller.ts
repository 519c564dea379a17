import { Body, Controller, Get, HttpCode, Param, Post, Query, Req, Type } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiResponse, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { FastifyRequest } from 'fastify';
import { Public, Roles } from '../auth/auth.decorators';
import { ApiErrors, SECURITY_TOKEN } from '../http/openapi';
import { AstakosIdentityService } from './astakos-identity.service';
import { CommissionsService } from './commissions.service';
import { IssueCommissionDto, ResolveCommissionDto, ResolveCommissionsDto, SerialParamsDto, serialNumber } from './dto/commission.dto';
import { TokensBodyDto } from './dto/identity.dto';
import { ServiceProjectQuotasQueryDto, ServiceQuotasQueryDto } from './dto/quota-query.dto';
import {
  CommissionAnswer,
  PROJECT_QUOTAS_SCHEMA,
  RESOLVED_SCHEMA,
  RESOURCES_SCHEMA,
  SerialAnswer,
  SERIALS_SCHEMA,
  SERVICE_QUOTAS_SCHEMA,
  TOKENS_SCHEMA,
  USER_QUOTAS_SCHEMA,
} from './dto/quota-responses';
import { QuotasService } from './quotas.service';

const COMMISSIONERS = ['service', 'admin'] as const;

/**
 * The Astakos account API (quotas.md 4) under one prefix. The same handlers
 * serve the advertised prefix and the older alias (1, "the mounts"); each
 * mount is its own controller class so that every operation of the OpenAPI
 * document has an id of its own (`astakos.issueCommission`, and
 * `astakos.issueCommissionAlias` under /astakos/api). Errors are Synnefo
 * faults, rendered by the global filter for every /astakos path.
 */
function accountController(prefix: string, alias: boolean): Type<object> {
  const id = (name: string) => `astakos.${name}${alias ? 'Alias' : ''}`;
  const summary = (text: string) => (alias ? `${text} (alias of /astakos/account/v1.0, never advertised)` : text);

  @ApiTags('astakos')
  @Controller(prefix)
  class AstakosAccountController {
    constructor(
      readonly quotas: QuotasService,
      readonly commissions: CommissionsService,
    ) {}

    @Public()
    @Get('resources')
    @ApiOperation({ operationId: id('resources'), summary: summary('Resources, keyed by name (no token needed)') })
    @ApiOkResponse({ schema: RESOURCES_SCHEMA })
    @ApiErrors('astakos', 503)
    resources() {
      return this.quotas.publicResources();
    }

    // Only a `user` token has a user_id to answer for (auth.md, quotas.md 4.3).
    @Roles('user')
    @Get('quotas')
    @ApiSecurity(SECURITY_TOKEN)
    @ApiOperation({ operationId: id('userQuotas'), summary: summary("The calling user's quotas with the project counters") })
    @ApiOkResponse({ schema: USER_QUOTAS_SCHEMA })
    @ApiErrors('astakos', 401, 403, 503)
    quotasOfUser(@Req() req: FastifyRequest) {
      return this.quotas.userQuotas(req.principal!.userId!);
    }

    @Roles('service', 'reader', 'admin')
    @Get('service_quotas')
    @ApiSecurity(SECURITY_TOKEN)
    @ApiOperation({ operationId: id('serviceQuotas'), summary: summary("Users' quotas, filtered by users and projects") })
    @ApiOkResponse({ schema: SERVICE_QUOTAS_SCHEMA })
    @ApiErrors('astakos', 400, 401, 403, 404, 503)
    serviceQuotas(@Query() query: ServiceQuotasQueryDto) {
      return this.quotas.serviceQuotas(query.user, query.project);
    }

    @Roles('service', 'reader', 'admin')
    @Get('service_project_quotas')
    @ApiSecurity(SECURITY_TOKEN)
    @ApiOperation({ operationId: id('serviceProjectQuotas'), summary: summary("Projects' own quotas") })
    @ApiOkResponse({ schema: PROJECT_QUOTAS_SCHEMA })
    @ApiErrors('astakos', 400, 401, 403, 404, 503)
    serviceProjectQuotas(@Query() query: ServiceProjectQuotasQueryDto) {
      return this.quotas.projectQuotas(query.project);
    }

    @Roles(...COMMISSIONERS)
    @Post('commissions')
    @HttpCode(201)
    @ApiSecurity(SECURITY_TOKEN)
    @ApiOperation({ operationId: id('issueCommission'), summary: summary('Issue a commission (all or nothing); 413 overLimit carries data') })
    @ApiResponse({ status: 201, type: SerialAnswer })
    @ApiErrors('astakos', 400, 401, 403, 404, 413, 503)
    issue(@Req() req: FastifyRequest, @Body() body: IssueCommissionDto) {
      return this.commissions.issue(req.principal!.name, body);
    }

    @Roles(...COMMISSIONERS)
    @Get('commissions')
    @ApiSecurity(SECURITY_TOKEN)
    @ApiOperation({ operationId: id('pendingCommissions'), summary: summary("The caller's pending serials, ascending") })
    @ApiOkResponse({ schema: SERIALS_SCHEMA })
    @ApiErrors('astakos', 401, 403, 503)
    pending(@Req() req: FastifyRequest) {
      return this.commissions.pending(req.principal!.name);
    }

    // Declared before commissions/:serial so that "action" is never read as a serial.
    @Roles(...COMMISSIONERS)
    @Post('commissions/action')
    @HttpCode(200)
    @ApiSecurity(SECURITY_TOKEN)
    @ApiOperation({ operationId: id('resolveCommissions'), summary: summary('Accept and reject many commissions, with per-serial failures') })
    @ApiOkResponse({ schema: RESOLVED_SCHEMA })
    @ApiErrors('astakos', 400, 401, 403, 503)
    resolveMany(@Req() req: FastifyRequest, @Body() body: ResolveCommissionsDto) {
      return this.commissions.actMany(req.principal!.name, { accept: body.accept ?? [], reject: body.reject ?? [] });
    }

    @Roles(...COMMISSIONERS)
    @Get('commissions/:serial')
    @ApiSecurity(SECURITY_TOKEN)
    @ApiOperation({ operationId: id('commission'), summary: summary('One pending commission of the caller') })
    @ApiOkResponse({ type: CommissionAnswer })
    @ApiErrors('astakos', 400, 401, 403, 404, 503)
    detail(@Req() req: FastifyRequest, @Param() params: SerialParamsDto) {
      return this.commissions.detail(req.principal!.name, serialNumber(params), params.serial);
    }

    // The path is checked before the body (a bad serial is a 400 whatever the body).
    @Roles(...COMMISSIONERS)
    @Post('commissions/:serial/action')
    @HttpCode(200)
    @ApiSecurity(SECURITY_TOKEN)
    @ApiOperation({ operationId: id('resolveCommission'), summary: summary('Accept or reject one commission (empty answer)') })
    @ApiOkResponse({ description: 'Resolved; empty body' })
    @ApiErrors('astakos', 400, 401, 403, 404, 503)
    async resolveOne(@Req() req: FastifyRequest, @Param() params: SerialParamsDto, @Body() body: ResolveCommissionDto): Promise<void> {
      await this.commissions.actOne(req.principal!.name, serialNumber(params), params.serial, body.accept !== undefined ? 'accept' : 'reject');
    }
  }
  Object.defineProperty(AstakosAccountController, 'name', { value: alias ? 'AstakosAccountAliasController' : 'AstakosAccountController' });
  return AstakosAccountController;
}

/** The advertised prefix (quotas.md 1): the one in the service catalog. */
export const AstakosAccountController = accountController('astakos/account/v1.0', false);
/** The older guide's paths, byte for byte the same handlers, never advertised. */
export const AstakosAccountAliasController = accountController('astakos/api', true);

/** Discovery and token check (quotas.md 3). */
@ApiTags('astakos')
@Controller('astakos/identity/v2.0')
export class AstakosIdentityController {
  constructor(private readonly identity: AstakosIdentityService) {}

  // Public: the catalog-only form needs no token; the body form checks the token it carries.
  @Public()
  @Post('tokens')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'astakos.tokens',
    summary: 'Service catalog (no body, no token needed), or the check of the token in the body',
  })
  @ApiBody({ type: TokensBodyDto, required: false })
  @ApiOkResponse({ schema: TOKENS_SCHEMA })
  @ApiErrors('astakos', 400, 401, 503)
  tokens(@Req() req: FastifyRequest, @Body() body?: TokensBodyDto) {
    return this.identity.tokens(`${req.protocol}://${req.host}`, body);
  }
}
