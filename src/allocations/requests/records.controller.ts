import { Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Req, Type } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { FastifyRequest } from 'fastify';
import { ALL_ROLES, Roles } from '../../auth/auth.decorators';
import { Principal } from '../../auth/principal';
import { AllocationBody, ApiQueryParams, Parsed } from '../shared/input';
import {
  ALLOCATION_MOUNTS,
  AllocationAnswers,
  AllocationMount,
  nameController,
  operationsOf,
  CHIEF_INVESTIGATOR_SCHEMA,
  envelopeOf,
  GRANT_SCHEMA,
  PUBLICATION_SCHEMA,
  QUOTA_SCHEMA,
} from '../shared/openapi';
import { ListQuery, ListQueryPipe, PAGE_PARAMS, Paginator } from '../shared/paging';
import { IdParam } from '../shared/params';
import { Caller } from '../shared/principal';
import { ChiefInvestigatorDto, GrantDto, PublicationDto, QuotaDto } from './dto/records.dto';
import { recordFilterParser, recordQueryParams } from './records-filter';
import { RecordFilter } from './records.repository';
import { RecordsService } from './records.service';

/**
 * The records of an allocation request: quotas (allocations.md 7), chief
 * investigators, grants and publications (9), under both prefixes. Creates
 * answer 201, deletes 204. Unregistered methods (PUT anywhere, PATCH on
 * quotas, grants and publications) answer 405.
 */
function recordsController(mount: AllocationMount): Type<object> {
  const op = operationsOf(mount);

  @ApiTags('allocations')
  @Controller(mount.prefix)
  class RecordsController {
    constructor(
      private readonly records: RecordsService,
      private readonly paginator: Paginator,
    ) {}

    // ---- quotas ----

    @Roles(...ALL_ROLES)
    @Get('quotas')
    @op('listQuotas', 'List quotas of the allocations the caller may see')
    @ApiQueryParams([...PAGE_PARAMS, ...recordQueryParams('quotas')])
    @AllocationAnswers(200, envelopeOf(QUOTA_SCHEMA), 400)
    async listQuotas(@Req() req: FastifyRequest, @Caller() caller: Principal, @Query(new ListQueryPipe(recordFilterParser('quotas'))) query: ListQuery<RecordFilter>) {
      return this.paginator.envelope(req, await this.records.list('quotas', caller, query.filter, query.page));
    }

    @Roles('admin', 'service', 'user')
    @Post('quotas')
    @HttpCode(201)
    @op('createQuota', 'Add a quota to an allocation in E or X')
    @AllocationAnswers(201, QUOTA_SCHEMA, 400, 403, 409, 415)
    createQuota(@Caller() caller: Principal, @AllocationBody(QuotaDto) body: Parsed<QuotaDto>) {
      return this.records.create('quotas', caller, body);
    }

    @Roles(...ALL_ROLES)
    @Get('quotas/:id')
    @op('getQuota', 'Get a quota')
    @AllocationAnswers(200, QUOTA_SCHEMA, 404)
    getQuota(@Caller() caller: Principal, @Param() params: IdParam) {
      return this.records.get('quotas', caller, params.id);
    }

    @Roles(...ALL_ROLES)
    @Delete('quotas/:id')
    @HttpCode(204)
    @op('deleteQuota', 'Delete a quota of an allocation in E or X')
    @AllocationAnswers(204, undefined, 403, 404, 409)
    async deleteQuota(@Caller() caller: Principal, @Param() params: IdParam): Promise<void> {
      await this.records.remove('quotas', caller, params.id);
    }

    // ---- chiefinvestigators ----

    @Roles(...ALL_ROLES)
    @Get('chiefinvestigators')
    @op('listChiefInvestigators', 'List chief investigators of the allocations the caller may see')
    @ApiQueryParams([...PAGE_PARAMS, ...recordQueryParams('chiefinvestigators')])
    @AllocationAnswers(200, envelopeOf(CHIEF_INVESTIGATOR_SCHEMA), 400)
    async listChiefInvestigators(@Req() req: FastifyRequest, @Caller() caller: Principal, @Query(new ListQueryPipe(recordFilterParser('chiefinvestigators'))) query: ListQuery<RecordFilter>) {
      return this.paginator.envelope(req, await this.records.list('chiefinvestigators', caller, query.filter, query.page));
    }

    @Roles('admin', 'service', 'user')
    @Post('chiefinvestigators')
    @HttpCode(201)
    @op('createChiefInvestigator', 'Add a chief investigator to an allocation in E or X')
    @AllocationAnswers(201, CHIEF_INVESTIGATOR_SCHEMA, 400, 403, 409, 415)
    createChiefInvestigator(@Caller() caller: Principal, @AllocationBody(ChiefInvestigatorDto) body: Parsed<ChiefInvestigatorDto>) {
      return this.records.create('chiefinvestigators', caller, body);
    }

    @Roles(...ALL_ROLES)
    @Get('chiefinvestigators/:id')
    @op('getChiefInvestigator', 'Get a chief investigator')
    @AllocationAnswers(200, CHIEF_INVESTIGATOR_SCHEMA, 404)
    getChiefInvestigator(@Caller() caller: Principal, @Param() params: IdParam) {
      return this.records.get('chiefinvestigators', caller, params.id);
    }

    @Roles(...ALL_ROLES)
    @Patch('chiefinvestigators/:id')
    @op('updateChiefInvestigator', 'Change a chief investigator of an allocation in E or X')
    @AllocationAnswers(200, CHIEF_INVESTIGATOR_SCHEMA, 400, 403, 404, 409, 415)
    updateChiefInvestigator(@Caller() caller: Principal, @Param() params: IdParam, @AllocationBody(ChiefInvestigatorDto, { partial: true }) body: Parsed<ChiefInvestigatorDto>) {
      return this.records.update(caller, params.id, body);
    }

    @Roles(...ALL_ROLES)
    @Delete('chiefinvestigators/:id')
    @HttpCode(204)
    @op('deleteChiefInvestigator', 'Delete a chief investigator of an allocation in E or X')
    @AllocationAnswers(204, undefined, 403, 404, 409)
    async deleteChiefInvestigator(@Caller() caller: Principal, @Param() params: IdParam): Promise<void> {
      await this.records.remove('chiefinvestigators', caller, params.id);
    }

    // ---- grants ----

    @Roles(...ALL_ROLES)
    @Get('grants')
    @op('listGrants', 'List grants of the allocations the caller may see')
    @ApiQueryParams([...PAGE_PARAMS, ...recordQueryParams('grants')])
    @AllocationAnswers(200, envelopeOf(GRANT_SCHEMA), 400)
    async listGrants(@Req() req: FastifyRequest, @Caller() caller: Principal, @Query(new ListQueryPipe(recordFilterParser('grants'))) query: ListQuery<RecordFilter>) {
      return this.paginator.envelope(req, await this.records.list('grants', caller, query.filter, query.page));
    }

    @Roles('admin', 'service', 'user')
    @Post('grants')
    @HttpCode(201)
    @op('createGrant', 'Add a grant to an allocation in E or X')
    @AllocationAnswers(201, GRANT_SCHEMA, 400, 403, 409, 415)
    createGrant(@Caller() caller: Principal, @AllocationBody(GrantDto) body: Parsed<GrantDto>) {
      return this.records.create('grants', caller, body);
    }

    @Roles(...ALL_ROLES)
    @Get('grants/:id')
    @op('getGrant', 'Get a grant')
    @AllocationAnswers(200, GRANT_SCHEMA, 404)
    getGrant(@Caller() caller: Principal, @Param() params: IdParam) {
      return this.records.get('grants', caller, params.id);
    }

    @Roles(...ALL_ROLES)
    @Delete('grants/:id')
    @HttpCode(204)
    @op('deleteGrant', 'Delete a grant of an allocation in E or X')
    @AllocationAnswers(204, undefined, 403, 404, 409)
    async deleteGrant(@Caller() caller: Principal, @Param() params: IdParam): Promise<void> {
      await this.records.remove('grants', caller, params.id);
    }

    // ---- publications ----

    @Roles(...ALL_ROLES)
    @Get('publications')
    @op('listPublications', 'List publications of the allocations the caller may see')
    @ApiQueryParams([...PAGE_PARAMS, ...recordQueryParams('publications')])
    @AllocationAnswers(200, envelopeOf(PUBLICATION_SCHEMA), 400)
    async listPublications(@Req() req: FastifyRequest, @Caller() caller: Principal, @Query(new ListQueryPipe(recordFilterParser('publications'))) query: ListQuery<RecordFilter>) {
      return this.paginator.envelope(req, await this.records.list('publications', caller, query.filter, query.page));
    }

    @Roles('admin', 'service', 'user')
    @Post('publications')
    @HttpCode(201)
    @op('createPublication', 'Add a publication to an allocation in E or X')
    @AllocationAnswers(201, PUBLICATION_SCHEMA, 400, 403, 409, 415)
    createPublication(@Caller() caller: Principal, @AllocationBody(PublicationDto) body: Parsed<PublicationDto>) {
      return this.records.create('publications', caller, body);
    }

    @Roles(...ALL_ROLES)
    @Get('publications/:id')
    @op('getPublication', 'Get a publication')
    @AllocationAnswers(200, PUBLICATION_SCHEMA, 404)
    getPublication(@Caller() caller: Principal, @Param() params: IdParam) {
      return this.records.get('publications', caller, params.id);
    }

    @Roles(...ALL_ROLES)
    @Delete('publications/:id')
    @HttpCode(204)
    @op('deletePublication', 'Delete a publication of an allocation in E or X')
    @AllocationAnswers(204, undefined, 403, 404, 409)
    async deletePublication(@Caller() caller: Principal, @Param() params: IdParam): Promise<void> {
      await this.records.remove('publications', caller, params.id);
    }
  }
  return nameController(RecordsController, 'Records', mount);
}

export const RECORDS_CONTROLLERS = ALLOCATION_MOUNTS.map(recordsController);
