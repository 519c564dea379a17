import { Body, Controller, Delete, Get, HttpCode, Param, Put, Req, Res, UseGuards } from '@nestjs/common';
import { ApiCreatedResponse, ApiExtraModels, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { FastifyReply, FastifyRequest } from 'fastify';
import { ALL_ROLES, Roles } from '../../auth/auth.decorators';
import { ApiErrors, SECURITY_TOKEN } from '../../http/openapi';
import { FlavorNameParams, PutFlavorDto } from './dto/flavor.dto';
import { FlavorListView, FlavorView, PutFlavorView, UnsizedFlavorView } from './dto/flavor.views';
import { FlavorCatalogueService } from './flavor-catalogue.service';
import { NoQueryGuard } from './no-query.guard';

/** `GET /reports/flavors` (reports.md 3.5): every role. */
@ApiTags('reports')
@ApiSecurity(SECURITY_TOKEN)
@ApiExtraModels(FlavorView, UnsizedFlavorView)
@ApiErrors('own', 401, 403, 503)
@Roles(...ALL_ROLES)
@Controller('reports/flavors')
export class FlavorsController {
  constructor(private readonly catalogue: FlavorCatalogueService) {}

  @Get()
  @ApiOperation({ operationId: 'reports.listFlavors', summary: 'The flavor catalogue, and the flavor strings of history it does not size' })
  @ApiOkResponse({ type: FlavorListView })
  @ApiErrors('own', 400)
  @UseGuards(NoQueryGuard)
  list(@Req() req: FastifyRequest): Promise<FlavorListView> {
    return this.catalogue.list(req.principal!);
  }
}

/** `PUT` and `DELETE /admin/reports/flavors/{name}` (reports.md 3.5): role admin. */
@ApiTags('admin')
@ApiSecurity(SECURITY_TOKEN)
@ApiErrors('admin', 401, 403, 503)
@Roles('admin')
@Controller('admin/reports/flavors')
export class FlavorsAdminController {
  constructor(private readonly catalogue: FlavorCatalogueService) {}

  @Put(':name')
  @ApiOperation({ operationId: 'admin.putReportFlavor', summary: 'Create (201) or replace (200) a catalogue entry; one audit entry' })
  @ApiCreatedResponse({ type: PutFlavorView, description: 'Created' })
  @ApiOkResponse({ type: PutFlavorView, description: 'Replaced' })
  @ApiErrors('admin', 400, 409, 415)
  async put(@Param() params: FlavorNameParams, @Body() body: PutFlavorDto, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<PutFlavorView> {
    const { created, flavor } = await this.catalogue.put(params.name, body, req.principal!);
    void reply.status(created ? 201 : 200);
    return flavor;
  }

  @Delete(':name')
  @HttpCode(204)
  @ApiOperation({ operationId: 'admin.deleteReportFlavor', summary: 'Delete a catalogue entry no version in history stores; one audit entry' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors('admin', 400, 404, 409)
  async remove(@Param() params: FlavorNameParams, @Req() req: FastifyRequest): Promise<void> {
    await this.catalogue.remove(params.name, req.principal!);
  }
}
