import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Req } from '@nestjs/common';
import { ApiSecurity, ApiTags } from '@nestjs/swagger';
import { FastifyRequest } from 'fastify';
import { ALL_ROLES, Roles } from '../auth/auth.decorators';
import { Principal } from '../auth/principal';
import { AllocationsService } from './allocations.service';
import { CatalogueService } from './catalogue.service';
import { OrganisationsService } from './organisations.service';
import { Query as ListQuery } from './paging';
import { RecordsService } from './records.service';

const VERSIONS = { versions: [{ id: 'v1.2', status: 'CURRENT', version: '1.2' }] };
const REQUESTERS = ['admin', 'service', 'user'] as const;

const who = (req: FastifyRequest): Principal => req.principal!;

/**
 * The alias root `GET /allocations` (allocations.md 1). Only the alias has
 * it: under `/allocations/v1` the same position would be a collection named
 * `v1`, which does not exist.
 */
@ApiTags('allocations')
@ApiSecurity('token')
@Controller('allocations')
export class AllocationsRootController {
  @Roles(...ALL_ROLES)
  @Get()
  versions() {
    return VERSIONS;
  }
}

/**
 * Nectar Allocation API v1 (allocations.md), at `/allocations/v1` and the
 * alias `/allocations`: both prefixes carry exactly the same routes, and no
 * collection is called `v1`, so `/allocations/v1/...` never reaches an
 * alias route. Every POST that is an action answers 200 (5); creates 201;
 * deletes 204. Routes that act on one allocation or record accept every role
 * and check the role in the service, after visibility, so that a user asking
 * for a record it cannot see gets 404 rather than 403 (5, check order).
 * Unregistered methods (PUT anywhere, DELETE on allocations and the
 * catalogue, PATCH on quotas, grants and publications) answer 405.
 */
@ApiTags('allocations')
@ApiSecurity('token')
@Controller(['allocations/v1', 'allocations'])
export class AllocationsController {
  constructor(
    private readonly allocations: AllocationsService,
    private readonly catalogue: CatalogueService,
    private readonly organisations: OrganisationsService,
    private readonly records: RecordsService,
  ) {}

  @Roles(...ALL_ROLES)
  @Get('versions')
  versions() {
    return VERSIONS;
  }

  // ---- allocations (4-6) ----------------------------------------------------

  @Roles(...ALL_ROLES)
  @Get('allocations')
  listAllocations(@Req() req: FastifyRequest, @Query() query: ListQuery) {
    return this.allocations.list(who(req), req, query);
  }

  @Roles(...REQUESTERS)
  @Post('allocations')
  @HttpCode(201)
  createAllocation(@Req() req: FastifyRequest, @Body() body: unknown) {
    return this.allocations.create(who(req), body);
  }

  @Roles(...ALL_ROLES)
  @Get('allocations/:id')
  getAllocation(@Req() req: FastifyRequest, @Param('id') id: string) {
    return this.allocations.get(who(req), id);
  }

  @Roles(...ALL_ROLES)
  @Patch('allocations/:id')
  updateAllocation(@Req() req: FastifyRequest, @Param('id') id: string, @Body() body: unknown) {
    return this.allocations.update(who(req), id, body);
  }

  @Roles(...ALL_ROLES)
  @Post('allocations/:id/approve')
  @HttpCode(200)
  approve(@Req() req: FastifyRequest, @Param('id') id: string) {
    return this.allocations.approve(who(req), id);
  }

  @Roles(...ALL_ROLES)
  @Post('allocations/:id/decline')
  @HttpCode(200)
  decline(@Req() req: FastifyRequest, @Param('id') id: string, @Body() body: unknown) {
    return this.allocations.decline(who(req), id, body);
  }

  @Roles(...ALL_ROLES)
  @Post('allocations/:id/amend')
  @HttpCode(200)
  amend(@Req() req: FastifyRequest, @Param('id') id: string) {
    return this.allocations.amend(who(req), id);
  }

  @Roles(...ALL_ROLES)
  @Post('allocations/:id/delete')
  @HttpCode(200)
  deleteAllocation(@Req() req: FastifyRequest, @Param('id') id: string) {
    return this.allocations.remove(who(req), id);
  }

  @Roles(...ALL_ROLES)
  @Get('allocations/:id/approver_info')
  approverInfo(@Req() req: FastifyRequest, @Param('id') id: string) {
    return this.allocations.approverInfo(who(req), id);
  }

  // ---- quotas (7), chief investigators, grants, publications (9) ------------

  @Roles(...ALL_ROLES)
  @Get('quotas')
  listQuotas(@Req() req: FastifyRequest, @Query() query: ListQuery) {
    return this.records.list('quotas', who(req), req, query);
  }
  @Roles(...REQUESTERS)
  @Post('quotas')
  @HttpCode(201)
  createQuota(@Req() req: FastifyRequest, @Body() body: unknown) {
    return this.records.create('quotas', who(req), body);
  }
  @Roles(...ALL_ROLES)
  @Get('quotas/:id')
  getQuota(@Req() req: FastifyRequest, @Param('id') id: string) {
    return this.records.get('quotas', who(req), id);
  }
  @Roles(...ALL_ROLES)
  @Delete('quotas/:id')
  @HttpCode(204)
  async deleteQuota(@Req() req: FastifyRequest, @Param('id') id: string) {
    await this.records.remove('quotas', who(req), id);
  }

  @Roles(...ALL_ROLES)
  @Get('chiefinvestigators')
  listChiefInvestigators(@Req() req: FastifyRequest, @Query() query: ListQuery) {
    return this.records.list('chiefinvestigators', who(req), req, query);
  }
  @Roles(...REQUESTERS)
  @Post('chiefinvestigators')
  @HttpCode(201)
  createChiefInvestigator(@Req() req: FastifyRequest, @Body() body: unknown) {
    return this.records.create('chiefinvestigators', who(req), body);
  }
  @Roles(...ALL_ROLES)
  @Get('chiefinvestigators/:id')
  getChiefInvestigator(@Req() req: FastifyRequest, @Param('id') id: string) {
    return this.records.get('chiefinvestigators', who(req), id);
  }
  @Roles(...ALL_ROLES)
  @Patch('chiefinvestigators/:id')
  updateChiefInvestigator(@Req() req: FastifyRequest, @Param('id') id: string, @Body() body: unknown) {
    return this.records.update('chiefinvestigators', who(req), id, body);
  }
  @Roles(...ALL_ROLES)
  @Delete('chiefinvestigators/:id')
  @HttpCode(204)
  async deleteChiefInvestigator(@Req() req: FastifyRequest, @Param('id') id: string) {
    await this.records.remove('chiefinvestigators', who(req), id);
  }

  @Roles(...ALL_ROLES)
  @Get('grants')
  listGrants(@Req() req: FastifyRequest, @Query() query: ListQuery) {
    return this.records.list('grants', who(req), req, query);
  }
  @Roles(...REQUESTERS)
  @Post('grants')
  @HttpCode(201)
  createGrant(@Req() req: FastifyRequest, @Body() body: unknown) {
    return this.records.create('grants', who(req), body);
  }
  @Roles(...ALL_ROLES)
  @Get('grants/:id')
  getGrant(@Req() req: FastifyRequest, @Param('id') id: string) {
    return this.records.get('grants', who(req), id);
  }
  @Roles(...ALL_ROLES)
  @Delete('grants/:id')
  @HttpCode(204)
  async deleteGrant(@Req() req: FastifyRequest, @Param('id') id: string) {
    await this.records.remove('grants', who(req), id);
  }

  @Roles(...ALL_ROLES)
  @Get('publications')
  listPublications(@Req() req: FastifyRequest, @Query() query: ListQuery) {
    return this.records.list('publications', who(req), req, query);
  }
  @Roles(...REQUESTERS)
  @Post('publications')
  @HttpCode(201)
  createPublication(@Req() req: FastifyRequest, @Body() body: unknown) {
    return this.records.create('publications', who(req), body);
  }
  @Roles(...ALL_ROLES)
  @Get('publications/:id')
  getPublication(@Req() req: FastifyRequest, @Param('id') id: string) {
    return this.records.get('publications', who(req), id);
  }
  @Roles(...ALL_ROLES)
  @Delete('publications/:id')
  @HttpCode(204)
  async deletePublication(@Req() req: FastifyRequest, @Param('id') id: string) {
    await this.records.remove('publications', who(req), id);
  }

  // ---- catalogue (8) ---------------------------------------------------------

  @Roles(...ALL_ROLES)
  @Get('zones/compute_homes')
  computeHomes() {
    return this.catalogue.computeHomes();
  }

  @Roles(...ALL_ROLES)
  @Get('zones')
  listZones(@Req() req: FastifyRequest, @Query() query: ListQuery) {
    return this.catalogue.list('zones', req, query);
  }
  @Roles('admin')
  @Post('zones')
  @HttpCode(201)
  createZone(@Body() body: unknown) {
    return this.catalogue.create('zones', body);
  }
  @Roles(...ALL_ROLES)
  @Get('zones/:name')
  getZone(@Param('name') key: string) {
    return this.catalogue.get('zones', key);
  }
  @Roles('admin')
  @Patch('zones/:name')
  updateZone(@Param('name') key: string, @Body() body: unknown) {
    return this.catalogue.update('zones', key, body);
  }

  @Roles(...ALL_ROLES)
  @Get('sites')
  listSites(@Req() req: FastifyRequest, @Query() query: ListQuery) {
    return this.catalogue.list('sites', req, query);
  }
  @Roles('admin')
  @Post('sites')
  @HttpCode(201)
  createSite(@Body() body: unknown) {
    return this.catalogue.create('sites', body);
  }
  @Roles(...ALL_ROLES)
  @Get('sites/:key')
  getSite(@Param('key') key: string) {
    return this.catalogue.get('sites', key);
  }
  @Roles('admin')
  @Patch('sites/:key')
  updateSite(@Param('key') key: string, @Body() body: unknown) {
    return this.catalogue.update('sites', key, body);
  }

  @Roles(...ALL_ROLES)
  @Get('service-types')
  listServiceTypes(@Req() req: FastifyRequest, @Query() query: ListQuery) {
    return this.catalogue.list('service-types', req, query);
  }
  @Roles('admin')
  @Post('service-types')
  @HttpCode(201)
  createServiceType(@Body() body: unknown) {
    return this.catalogue.create('service-types', body);
  }
  @Roles(...ALL_ROLES)
  @Get('service-types/:catalog_name')
  getServiceType(@Param('catalog_name') key: string) {
    return this.catalogue.get('service-types', key);
  }
  @Roles('admin')
  @Patch('service-types/:catalog_name')
  updateServiceType(@Param('catalog_name') key: string, @Body() body: unknown) {
    return this.catalogue.update('service-types', key, body);
  }

  @Roles(...ALL_ROLES)
  @Get('resources')
  listResources(@Req() req: FastifyRequest, @Query() query: ListQuery) {
    return this.catalogue.list('resources', req, query);
  }
  @Roles('admin')
  @Post('resources')
  @HttpCode(201)
  createResource(@Body() body: unknown) {
    return this.catalogue.create('resources', body);
  }
  @Roles(...ALL_ROLES)
  @Get('resources/:key')
  getResource(@Param('key') key: string) {
    return this.catalogue.get('resources', key);
  }
  @Roles('admin')
  @Patch('resources/:key')
  updateResource(@Param('key') key: string, @Body() body: unknown) {
    return this.catalogue.update('resources', key, body);
  }

  @Roles(...ALL_ROLES)
  @Get('bundles')
  listBundles(@Req() req: FastifyRequest, @Query() query: ListQuery) {
    return this.catalogue.list('bundles', req, query);
  }
  @Roles('admin')
  @Post('bundles')
  @HttpCode(201)
  createBundle(@Body() body: unknown) {
    return this.catalogue.create('bundles', body);
  }
  @Roles(...ALL_ROLES)
  @Get('bundles/:key')
  getBundle(@Param('key') key: string) {
    return this.catalogue.get('bundles', key);
  }
  @Roles('admin')
  @Patch('bundles/:key')
  updateBundle(@Param('key') key: string, @Body() body: unknown) {
    return this.catalogue.update('bundles', key, body);
  }

  @Roles(...ALL_ROLES)
  @Get('ncris-facilities')
  listFacilities(@Req() req: FastifyRequest, @Query() query: ListQuery) {
    return this.catalogue.list('ncris-facilities', req, query);
  }
  @Roles('admin')
  @Post('ncris-facilities')
  @HttpCode(201)
  createFacility(@Body() body: unknown) {
    return this.catalogue.create('ncris-facilities', body);
  }
  @Roles(...ALL_ROLES)
  @Get('ncris-facilities/:key')
  getFacility(@Param('key') key: string) {
    return this.catalogue.get('ncris-facilities', key);
  }
  @Roles('admin')
  @Patch('ncris-facilities/:key')
  updateFacility(@Param('key') key: string, @Body() body: unknown) {
    return this.catalogue.update('ncris-facilities', key, body);
  }

  @Roles(...ALL_ROLES)
  @Get('ardc-projects')
  listArdcProjects(@Req() req: FastifyRequest, @Query() query: ListQuery) {
    return this.catalogue.list('ardc-projects', req, query);
  }
  @Roles('admin')
  @Post('ardc-projects')
  @HttpCode(201)
  createArdcProject(@Body() body: unknown) {
    return this.catalogue.create('ardc-projects', body);
  }
  @Roles(...ALL_ROLES)
  @Get('ardc-projects/:key')
  getArdcProject(@Param('key') key: string) {
    return this.catalogue.get('ardc-projects', key);
  }
  @Roles('admin')
  @Patch('ardc-projects/:key')
  updateArdcProject(@Param('key') key: string, @Body() body: unknown) {
    return this.catalogue.update('ardc-projects', key, body);
  }

  @Roles('admin', 'service', 'reader')
  @Get('approvers')
  listApprovers(@Req() req: FastifyRequest, @Query() query: ListQuery) {
    return this.catalogue.list('approvers', req, query);
  }
  @Roles('admin')
  @Post('approvers')
  @HttpCode(201)
  createApprover(@Body() body: unknown) {
    return this.catalogue.create('approvers', body);
  }
  @Roles('admin', 'service', 'reader')
  @Get('approvers/:id')
  getApprover(@Param('id') key: string) {
    return this.catalogue.get('approvers', key);
  }
  @Roles('admin')
  @Patch('approvers/:id')
  updateApprover(@Param('id') key: string, @Body() body: unknown) {
    return this.catalogue.update('approvers', key, body);
  }

  @Roles(...ALL_ROLES)
  @Get('organisations')
  listOrganisations(@Req() req: FastifyRequest, @Query() query: ListQuery) {
    return this.organisations.list(who(req), req, query);
  }
  @Roles(...REQUESTERS)
  @Post('organisations')
  @HttpCode(201)
  createOrganisation(@Req() req: FastifyRequest, @Body() body: unknown) {
    return this.organisations.create(who(req), body);
  }
  @Roles(...ALL_ROLES)
  @Get('organisations/:id')
  getOrganisation(@Req() req: FastifyRequest, @Param('id') id: string) {
    return this.organisations.get(who(req), id);
  }
  @Roles('admin')
  @Patch('organisations/:id')
  updateOrganisation(@Req() req: FastifyRequest, @Param('id') id: string, @Body() body: unknown) {
    return this.organisations.update(who(req), id, body);
  }
  @Roles('admin')
  @Post('organisations/:id/approve')
  @HttpCode(200)
  approveOrganisation(@Req() req: FastifyRequest, @Param('id') id: string) {
    return this.organisations.vet(who(req), id, true);
  }
  @Roles('admin')
  @Post('organisations/:id/decline')
  @HttpCode(200)
  declineOrganisation(@Req() req: FastifyRequest, @Param('id') id: string) {
    return this.organisations.vet(who(req), id, false);
  }
}
