import { Body, Controller, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { Public, Roles } from '../auth/auth.decorators';
import { AstakosIdentityService } from './astakos-identity.service';
import { CommissionsService } from './commissions.service';
import { IssueCommissionDto, ResolveCommissionDto, ResolveCommissionsDto, SerialParamsDto, serialNumber } from './dto/commission.dto';
import { TokensBodyDto } from './dto/identity.dto';
import { ServiceProjectQuotasQueryDto, ServiceQuotasQueryDto } from './dto/quota-query.dto';
import { QuotasService } from './quotas.service';

const COMMISSIONERS = ['service', 'admin'] as const;

/**
 * The Astakos account API (quotas.md 4), byte for byte the same under the
 * advertised prefix and the older alias (1, "the mounts"). Errors are
 * Synnefo faults, rendered by the global filter for every /astakos path.
 */
@Controller(['astakos/account/v1.0', 'astakos/api'])
export class AstakosAccountController {
  constructor(
    private readonly quotas: QuotasService,
    private readonly commissions: CommissionsService,
  ) {}

  @Public()
  @Get('resources')
  resources() {
    return this.quotas.publicResources();
  }

  // Only a `user` token has a user_id to answer for (auth.md, quotas.md 4.3).
  @Roles('user')
  @Get('quotas')
  quotasOfUser(@Req() req: FastifyRequest) {
    return this.quotas.userQuotas(req.principal!.userId!);
  }

  @Roles('service', 'reader', 'admin')
  @Get('service_quotas')
  serviceQuotas(@Query() query: ServiceQuotasQueryDto) {
    return this.quotas.serviceQuotas(query.user, query.project);
  }

  @Roles('service', 'reader', 'admin')
  @Get('service_project_quotas')
  serviceProjectQuotas(@Query() query: ServiceProjectQuotasQueryDto) {
    return this.quotas.projectQuotas(query.project);
  }

  @Roles(...COMMISSIONERS)
  @Post('commissions')
  @HttpCode(201)
  issue(@Req() req: FastifyRequest, @Body() body: IssueCommissionDto) {
    return this.commissions.issue(req.principal!.name, body);
  }

  @Roles(...COMMISSIONERS)
  @Get('commissions')
  pending(@Req() req: FastifyRequest) {
    return this.commissions.pending(req.principal!.name);
  }

  // Declared before commissions/:serial so that "action" is never read as a serial.
  @Roles(...COMMISSIONERS)
  @Post('commissions/action')
  @HttpCode(200)
  resolveMany(@Req() req: FastifyRequest, @Body() body: ResolveCommissionsDto) {
    return this.commissions.actMany(req.principal!.name, { accept: body.accept ?? [], reject: body.reject ?? [] });
  }

  @Roles(...COMMISSIONERS)
  @Get('commissions/:serial')
  detail(@Req() req: FastifyRequest, @Param() params: SerialParamsDto) {
    return this.commissions.detail(req.principal!.name, serialNumber(params), params.serial);
  }

  // The path is checked before the body (a bad serial is a 400 whatever the body).
  @Roles(...COMMISSIONERS)
  @Post('commissions/:serial/action')
  @HttpCode(200)
  async resolveOne(@Req() req: FastifyRequest, @Param() params: SerialParamsDto, @Body() body: ResolveCommissionDto): Promise<void> {
    await this.commissions.actOne(req.principal!.name, serialNumber(params), params.serial, body.accept !== undefined ? 'accept' : 'reject');
  }
}

/** Discovery and token check (quotas.md 3). */
@Controller('astakos/identity/v2.0')
export class AstakosIdentityController {
  constructor(private readonly identity: AstakosIdentityService) {}

  // Public: the catalog-only form needs no token; the body form checks the token it carries.
  @Public()
  @Post('tokens')
  @HttpCode(200)
  tokens(@Req() req: FastifyRequest, @Body() body?: TokensBodyDto) {
    return this.identity.tokens(`${req.protocol}://${req.host}`, body);
  }
}
