import { Controller, Get, HttpCode, Param, Patch, Post, Query, Req, Type } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { FastifyRequest } from 'fastify';
import { ALL_ROLES, Roles } from '../../auth/auth.decorators';
import { AllocationBody, ApiQueryParams, Parsed } from '../shared/input';
import { ALLOCATION_MOUNTS, AllocationAnswers, AllocationMount, nameController, operationsOf, COMPUTE_HOMES_SCHEMA, envelopeOf } from '../shared/openapi';
import { ListQuery, ListQueryPipe, PAGE_PARAMS, Paginator } from '../shared/paging';
import { CatalogNameParam, IdParam, KeyParam, ZoneNameParam } from '../shared/params';
import { CatalogueFilter, catalogueFilterParser, catalogueQueryParams } from './catalogue-filter';
import { CATALOGUE_SCHEMAS } from './catalogue.schemas';
import { CatalogueService } from './catalogue.service';
import { ApproverDto, ArdcProjectDto, BundleDto, FacilityDto, ResourceDto, ServiceTypeDto, SiteDto, ZoneDto } from './dto/catalogue.dto';

/**
 * The catalogue (allocations.md 8) under both prefixes of the mount: list and
 * get for every role (approvers: admin, service, reader), create and PATCH
 * for admin. DELETE and PUT are not registered, so they answer 405.
 */
function catalogueController(mount: AllocationMount): Type<object> {
  const op = operationsOf(mount);

  @ApiTags('allocations')
  @Controller(mount.prefix)
  class CatalogueController {
    constructor(
      private readonly catalogue: CatalogueService,
      private readonly paginator: Paginator,
    ) {}

    @Roles(...ALL_ROLES)
    @Get('zones/compute_homes')
    @op('getComputeHomes', 'Map each allocation home to its compute availability zones')
    @AllocationAnswers(200, COMPUTE_HOMES_SCHEMA)
    computeHomes() {
      return this.catalogue.computeHomes();
    }

    // ---- zones ----

    @Roles(...ALL_ROLES)
    @Get('zones')
    @op('listZones', 'List zones')
    @ApiQueryParams([...PAGE_PARAMS, ...catalogueQueryParams('zones')])
    @AllocationAnswers(200, envelopeOf(CATALOGUE_SCHEMAS['zones']), 400)
    async listZones(@Req() req: FastifyRequest, @Query(new ListQueryPipe(catalogueFilterParser('zones'))) query: ListQuery<CatalogueFilter>) {
      return this.paginator.envelope(req, await this.catalogue.list('zones', query.filter, query.page));
    }

    @Roles('admin')
    @Post('zones')
    @HttpCode(201)
    @op('createZone', 'Create a zone (admin)')
    @AllocationAnswers(201, CATALOGUE_SCHEMAS['zones'], 400, 403, 415)
    createZone(@AllocationBody(ZoneDto) body: Parsed<ZoneDto>) {
      return this.catalogue.create('zones', body);
    }

    @Roles(...ALL_ROLES)
    @Get('zones/:name')
    @op('getZone', 'Get a zone')
    @AllocationAnswers(200, CATALOGUE_SCHEMAS['zones'], 404)
    getZone(@Param() params: ZoneNameParam) {
      return this.catalogue.get('zones', params.name);
    }

    @Roles('admin')
    @Patch('zones/:name')
    @op('updateZone', 'Change a zone (admin)')
    @AllocationAnswers(200, CATALOGUE_SCHEMAS['zones'], 400, 403, 404, 415)
    updateZone(@Param() params: ZoneNameParam, @AllocationBody(ZoneDto, { partial: true }) body: Parsed<ZoneDto>) {
      return this.catalogue.update('zones', params.name, body);
    }

    // ---- sites ----

    @Roles(...ALL_ROLES)
    @Get('sites')
    @op('listSites', 'List sites')
    @ApiQueryParams([...PAGE_PARAMS, ...catalogueQueryParams('sites')])
    @AllocationAnswers(200, envelopeOf(CATALOGUE_SCHEMAS['sites']), 400)
    async listSites(@Req() req: FastifyRequest, @Query(new ListQueryPipe(catalogueFilterParser('sites'))) query: ListQuery<CatalogueFilter>) {
      return this.paginator.envelope(req, await this.catalogue.list('sites', query.filter, query.page));
    }

    @Roles('admin')
    @Post('sites')
    @HttpCode(201)
    @op('createSite', 'Create a site (admin)')
    @AllocationAnswers(201, CATALOGUE_SCHEMAS['sites'], 400, 403, 415)
    createSite(@AllocationBody(SiteDto) body: Parsed<SiteDto>) {
      return this.catalogue.create('sites', body);
    }

    @Roles(...ALL_ROLES)
    @Get('sites/:key')
    @op('getSite', 'Get a site')
    @AllocationAnswers(200, CATALOGUE_SCHEMAS['sites'], 404)
    getSite(@Param() params: KeyParam) {
      return this.catalogue.get('sites', params.key);
    }

    @Roles('admin')
    @Patch('sites/:key')
    @op('updateSite', 'Change a site (admin)')
    @AllocationAnswers(200, CATALOGUE_SCHEMAS['sites'], 400, 403, 404, 415)
    updateSite(@Param() params: KeyParam, @AllocationBody(SiteDto, { partial: true }) body: Parsed<SiteDto>) {
      return this.catalogue.update('sites', params.key, body);
    }

    // ---- service-types ----

    @Roles(...ALL_ROLES)
    @Get('service-types')
    @op('listServiceTypes', 'List service types')
    @ApiQueryParams([...PAGE_PARAMS, ...catalogueQueryParams('service-types')])
    @AllocationAnswers(200, envelopeOf(CATALOGUE_SCHEMAS['service-types']), 400)
    async listServiceTypes(@Req() req: FastifyRequest, @Query(new ListQueryPipe(catalogueFilterParser('service-types'))) query: ListQuery<CatalogueFilter>) {
      return this.paginator.envelope(req, await this.catalogue.list('service-types', query.filter, query.page));
    }

    @Roles('admin')
    @Post('service-types')
    @HttpCode(201)
    @op('createServiceType', 'Create a service type (admin)')
    @AllocationAnswers(201, CATALOGUE_SCHEMAS['service-types'], 400, 403, 415)
    createServiceType(@AllocationBody(ServiceTypeDto) body: Parsed<ServiceTypeDto>) {
      return this.catalogue.create('service-types', body);
    }

    @Roles(...ALL_ROLES)
    @Get('service-types/:catalog_name')
    @op('getServiceType', 'Get a service type')
    @AllocationAnswers(200, CATALOGUE_SCHEMAS['service-types'], 404)
    getServiceType(@Param() params: CatalogNameParam) {
      return this.catalogue.get('service-types', params.catalog_name);
    }

    @Roles('admin')
    @Patch('service-types/:catalog_name')
    @op('updateServiceType', 'Change a service type (admin)')
    @AllocationAnswers(200, CATALOGUE_SCHEMAS['service-types'], 400, 403, 404, 415)
    updateServiceType(@Param() params: CatalogNameParam, @AllocationBody(ServiceTypeDto, { partial: true }) body: Parsed<ServiceTypeDto>) {
      return this.catalogue.update('service-types', params.catalog_name, body);
    }

    // ---- resources ----

    @Roles(...ALL_ROLES)
    @Get('resources')
    @op('listResources', 'List resources')
    @ApiQueryParams([...PAGE_PARAMS, ...catalogueQueryParams('resources')])
    @AllocationAnswers(200, envelopeOf(CATALOGUE_SCHEMAS['resources']), 400)
    async listResources(@Req() req: FastifyRequest, @Query(new ListQueryPipe(catalogueFilterParser('resources'))) query: ListQuery<CatalogueFilter>) {
      return this.paginator.envelope(req, await this.catalogue.list('resources', query.filter, query.page));
    }

    @Roles('admin')
    @Post('resources')
    @HttpCode(201)
    @op('createResource', 'Create a resource (admin)')
    @AllocationAnswers(201, CATALOGUE_SCHEMAS['resources'], 400, 403, 415)
    createResource(@AllocationBody(ResourceDto) body: Parsed<ResourceDto>) {
      return this.catalogue.create('resources', body);
    }

    @Roles(...ALL_ROLES)
    @Get('resources/:key')
    @op('getResource', 'Get a resource')
    @AllocationAnswers(200, CATALOGUE_SCHEMAS['resources'], 404)
    getResource(@Param() params: KeyParam) {
      return this.catalogue.get('resources', params.key);
    }

    @Roles('admin')
    @Patch('resources/:key')
    @op('updateResource', 'Change a resource (admin)')
    @AllocationAnswers(200, CATALOGUE_SCHEMAS['resources'], 400, 403, 404, 415)
    updateResource(@Param() params: KeyParam, @AllocationBody(ResourceDto, { partial: true }) body: Parsed<ResourceDto>) {
      return this.catalogue.update('resources', params.key, body);
    }

    // ---- bundles ----

    @Roles(...ALL_ROLES)
    @Get('bundles')
    @op('listBundles', 'List bundles')
    @ApiQueryParams([...PAGE_PARAMS, ...catalogueQueryParams('bundles')])
    @AllocationAnswers(200, envelopeOf(CATALOGUE_SCHEMAS['bundles']), 400)
    async listBundles(@Req() req: FastifyRequest, @Query(new ListQueryPipe(catalogueFilterParser('bundles'))) query: ListQuery<CatalogueFilter>) {
      return this.paginator.envelope(req, await this.catalogue.list('bundles', query.filter, query.page));
    }

    @Roles('admin')
    @Post('bundles')
    @HttpCode(201)
    @op('createBundle', 'Create a bundle (admin)')
    @AllocationAnswers(201, CATALOGUE_SCHEMAS['bundles'], 400, 403, 415)
    createBundle(@AllocationBody(BundleDto) body: Parsed<BundleDto>) {
      return this.catalogue.create('bundles', body);
    }

    @Roles(...ALL_ROLES)
    @Get('bundles/:key')
    @op('getBundle', 'Get a bundle')
    @AllocationAnswers(200, CATALOGUE_SCHEMAS['bundles'], 404)
    getBundle(@Param() params: KeyParam) {
      return this.catalogue.get('bundles', params.key);
    }

    @Roles('admin')
    @Patch('bundles/:key')
    @op('updateBundle', 'Change a bundle (admin)')
    @AllocationAnswers(200, CATALOGUE_SCHEMAS['bundles'], 400, 403, 404, 415)
    updateBundle(@Param() params: KeyParam, @AllocationBody(BundleDto, { partial: true }) body: Parsed<BundleDto>) {
      return this.catalogue.update('bundles', params.key, body);
    }

    // ---- ncris-facilities ----

    @Roles(...ALL_ROLES)
    @Get('ncris-facilities')
    @op('listFacilities', 'List NCRIS facilitys')
    @ApiQueryParams([...PAGE_PARAMS, ...catalogueQueryParams('ncris-facilities')])
    @AllocationAnswers(200, envelopeOf(CATALOGUE_SCHEMAS['ncris-facilities']), 400)
    async listFacilities(@Req() req: FastifyRequest, @Query(new ListQueryPipe(catalogueFilterParser('ncris-facilities'))) query: ListQuery<CatalogueFilter>) {
      return this.paginator.envelope(req, await this.catalogue.list('ncris-facilities', query.filter, query.page));
    }

    @Roles('admin')
    @Post('ncris-facilities')
    @HttpCode(201)
    @op('createFacility', 'Create an NCRIS facility (admin)')
    @AllocationAnswers(201, CATALOGUE_SCHEMAS['ncris-facilities'], 400, 403, 415)
    createFacility(@AllocationBody(FacilityDto) body: Parsed<FacilityDto>) {
      return this.catalogue.create('ncris-facilities', body);
    }

    @Roles(...ALL_ROLES)
    @Get('ncris-facilities/:key')
    @op('getFacility', 'Get an NCRIS facility')
    @AllocationAnswers(200, CATALOGUE_SCHEMAS['ncris-facilities'], 404)
    getFacility(@Param() params: KeyParam) {
      return this.catalogue.get('ncris-facilities', params.key);
    }

    @Roles('admin')
    @Patch('ncris-facilities/:key')
    @op('updateFacility', 'Change an NCRIS facility (admin)')
    @AllocationAnswers(200, CATALOGUE_SCHEMAS['ncris-facilities'], 400, 403, 404, 415)
    updateFacility(@Param() params: KeyParam, @AllocationBody(FacilityDto, { partial: true }) body: Parsed<FacilityDto>) {
      return this.catalogue.update('ncris-facilities', params.key, body);
    }

    // ---- ardc-projects ----

    @Roles(...ALL_ROLES)
    @Get('ardc-projects')
    @op('listArdcProjects', 'List ARDC projects')
    @ApiQueryParams([...PAGE_PARAMS, ...catalogueQueryParams('ardc-projects')])
    @AllocationAnswers(200, envelopeOf(CATALOGUE_SCHEMAS['ardc-projects']), 400)
    async listArdcProjects(@Req() req: FastifyRequest, @Query(new ListQueryPipe(catalogueFilterParser('ardc-projects'))) query: ListQuery<CatalogueFilter>) {
      return this.paginator.envelope(req, await this.catalogue.list('ardc-projects', query.filter, query.page));
    }

    @Roles('admin')
    @Post('ardc-projects')
    @HttpCode(201)
    @op('createArdcProject', 'Create an ARDC project (admin)')
    @AllocationAnswers(201, CATALOGUE_SCHEMAS['ardc-projects'], 400, 403, 415)
    createArdcProject(@AllocationBody(ArdcProjectDto) body: Parsed<ArdcProjectDto>) {
      return this.catalogue.create('ardc-projects', body);
    }

    @Roles(...ALL_ROLES)
    @Get('ardc-projects/:key')
    @op('getArdcProject', 'Get an ARDC project')
    @AllocationAnswers(200, CATALOGUE_SCHEMAS['ardc-projects'], 404)
    getArdcProject(@Param() params: KeyParam) {
      return this.catalogue.get('ardc-projects', params.key);
    }

    @Roles('admin')
    @Patch('ardc-projects/:key')
    @op('updateArdcProject', 'Change an ARDC project (admin)')
    @AllocationAnswers(200, CATALOGUE_SCHEMAS['ardc-projects'], 400, 403, 404, 415)
    updateArdcProject(@Param() params: KeyParam, @AllocationBody(ArdcProjectDto, { partial: true }) body: Parsed<ArdcProjectDto>) {
      return this.catalogue.update('ardc-projects', params.key, body);
    }

    // ---- approvers ----

    @Roles('admin', 'service', 'reader')
    @Get('approvers')
    @op('listApprovers', 'List approvers')
    @ApiQueryParams([...PAGE_PARAMS, ...catalogueQueryParams('approvers')])
    @AllocationAnswers(200, envelopeOf(CATALOGUE_SCHEMAS['approvers']), 400, 403)
    async listApprovers(@Req() req: FastifyRequest, @Query(new ListQueryPipe(catalogueFilterParser('approvers'))) query: ListQuery<CatalogueFilter>) {
      return this.paginator.envelope(req, await this.catalogue.list('approvers', query.filter, query.page));
    }

    @Roles('admin')
    @Post('approvers')
    @HttpCode(201)
    @op('createApprover', 'Create an approver (admin)')
    @AllocationAnswers(201, CATALOGUE_SCHEMAS['approvers'], 400, 403, 415)
    createApprover(@AllocationBody(ApproverDto) body: Parsed<ApproverDto>) {
      return this.catalogue.create('approvers', body);
    }

    @Roles('admin', 'service', 'reader')
    @Get('approvers/:id')
    @op('getApprover', 'Get an approver')
    @AllocationAnswers(200, CATALOGUE_SCHEMAS['approvers'], 403, 404)
    getApprover(@Param() params: IdParam) {
      return this.catalogue.get('approvers', params.id);
    }

    @Roles('admin')
    @Patch('approvers/:id')
    @op('updateApprover', 'Change an approver (admin)')
    @AllocationAnswers(200, CATALOGUE_SCHEMAS['approvers'], 400, 403, 404, 415)
    updateApprover(@Param() params: IdParam, @AllocationBody(ApproverDto, { partial: true }) body: Parsed<ApproverDto>) {
      return this.catalogue.update('approvers', params.id, body);
    }
  }
  return nameController(CatalogueController, 'Catalogue', mount);
}

export const CATALOGUE_CONTROLLERS = ALLOCATION_MOUNTS.map(catalogueController);
