import { Body, Controller, Delete, Get, HttpCode, Param, Put, Query, Res } from '@nestjs/common';
import { ApiExtension, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiResponse, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { FastifyReply } from 'fastify';
import { Roles } from '../auth/auth.decorators';
import { ApiErrors, SECURITY_TOKEN } from '../http/openapi';
import { validateDto } from '../http/validation.pipe';
import { ListHoldingsQueryDto, PutHoldingsDto, PutResourceDto, ResourceNameParamsDto } from './dto/quotas-admin.dto';
import { HoldingsAnswer, ResourceAnswer } from './dto/quota-responses';
import { QuotasService } from './quotas.service';

/** Resource definitions and limits (quotas.md 6); errors are `{"error"}` like the rest of /admin. */
@ApiTags('admin')
@ApiSecurity(SECURITY_TOKEN)
@Roles('admin')
@Controller('admin/quotas')
export class QuotasAdminController {
  constructor(private readonly quotas: QuotasService) {}

  // An empty name never reaches the route below; answer it as the contract says (400 naming `name`), not 404.
  @Put('resources')
  @ApiOperation({ operationId: 'admin.putQuotaResourceWithoutName', summary: 'A resource needs a name: always 400' })
  @ApiExtension('x-always-refused', true)
  @ApiErrors('admin', 400, 401, 403)
  putResourceWithoutName(): never {
    validateDto(ResourceNameParamsDto, { name: '' }, 'param');
    throw new Error('unreachable: an empty resource name always fails its DTO');
  }

  @Put('resources/:name')
  @ApiOperation({ operationId: 'admin.putQuotaResource', summary: 'Create (201) or replace (200) a quota resource' })
  @ApiResponse({ status: 201, type: ResourceAnswer, description: 'Created' })
  @ApiOkResponse({ type: ResourceAnswer, description: 'Replaced' })
  @ApiErrors('admin', 400, 401, 403, 503)
  async putResource(@Param() params: ResourceNameParamsDto, @Body() body: PutResourceDto, @Res({ passthrough: true }) reply: FastifyReply) {
    const { created, resource } = await this.quotas.putResource(params.name, body);
    void reply.status(created ? 201 : 200);
    return resource;
  }

  @Delete('resources/:name')
  @HttpCode(204)
  @ApiOperation({ operationId: 'admin.deleteQuotaResource', summary: 'Delete a quota resource that no holding uses' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors('admin', 400, 401, 403, 404, 409, 503)
  async deleteResource(@Param() params: ResourceNameParamsDto): Promise<void> {
    await this.quotas.deleteResource(params.name);
  }

  @Put('holdings')
  @ApiOperation({ operationId: 'admin.putQuotaHoldings', summary: 'Set limits, creating holdings as needed (one transaction)' })
  @ApiOkResponse({ type: HoldingsAnswer, description: 'The holdings in request order' })
  @ApiErrors('admin', 400, 401, 403, 503)
  putHoldings(@Body() body: PutHoldingsDto) {
    return this.quotas.putHoldings(body);
  }

  @Get('holdings')
  @ApiOperation({ operationId: 'admin.listQuotaHoldings', summary: 'List holdings, ordered by holder, source, resource' })
  @ApiOkResponse({ type: HoldingsAnswer })
  @ApiErrors('admin', 400, 401, 403, 503)
  listHoldings(@Query() query: ListHoldingsQueryDto) {
    return this.quotas.listHoldings(query);
  }
}
