import { Controller, Get, HttpCode, Param, Patch, Post, Query, Req, Type } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { FastifyRequest } from 'fastify';
import { ALL_ROLES, Roles } from '../../auth/auth.decorators';
import { Principal } from '../../auth/principal';
import { AllocationBody, ApiQueryParams, Parsed } from '../shared/input';
import { ALLOCATION_MOUNTS, AllocationAnswers, AllocationMount, nameController, operationsOf, envelopeOf, ORGANISATION_SCHEMA } from '../shared/openapi';
import { ListQuery, ListQueryPipe, PAGE_PARAMS, Paginator } from '../shared/paging';
import { IdParam } from '../shared/params';
import { Caller } from '../shared/principal';
import { OrganisationDto } from './dto/organisation.dto';
import { ORGANISATION_QUERY_PARAMS, OrganisationFilter, parseOrganisationFilter } from './organisation-filter';
import { OrganisationsService } from './organisations.service';

/** `organisations/` (allocations.md 8, Organisations), under both prefixes of the mount. */
function organisationsController(mount: AllocationMount): Type<object> {
  const op = operationsOf(mount);

  @ApiTags('allocations')
  @Controller(mount.prefix)
  class OrganisationsController {
    constructor(
      private readonly organisations: OrganisationsService,
      private readonly paginator: Paginator,
    ) {}

    @Roles(...ALL_ROLES)
    @Get('organisations')
    @op('listOrganisations', 'List organisations')
    @ApiQueryParams([...PAGE_PARAMS, ...ORGANISATION_QUERY_PARAMS])
    @AllocationAnswers(200, envelopeOf(ORGANISATION_SCHEMA), 400)
    async list(@Req() req: FastifyRequest, @Caller() caller: Principal, @Query(new ListQueryPipe(parseOrganisationFilter)) query: ListQuery<OrganisationFilter>) {
      return this.paginator.envelope(req, await this.organisations.list(caller, query.filter, query.page));
    }

    @Roles('admin', 'service', 'user')
    @Post('organisations')
    @HttpCode(201)
    @op('createOrganisation', 'Create an organisation (admin) or propose one (service, user)')
    @AllocationAnswers(201, ORGANISATION_SCHEMA, 400, 403, 415)
    create(@Caller() caller: Principal, @AllocationBody(OrganisationDto) body: Parsed<OrganisationDto>) {
      return this.organisations.create(caller, body);
    }

    @Roles(...ALL_ROLES)
    @Get('organisations/:id')
    @op('getOrganisation', 'Get an organisation')
    @AllocationAnswers(200, ORGANISATION_SCHEMA, 404)
    get(@Caller() caller: Principal, @Param() params: IdParam) {
      return this.organisations.get(caller, params.id);
    }

    @Roles('admin')
    @Patch('organisations/:id')
    @op('updateOrganisation', 'Change an organisation (admin)')
    @AllocationAnswers(200, ORGANISATION_SCHEMA, 400, 403, 404, 415)
    update(@Caller() caller: Principal, @Param() params: IdParam, @AllocationBody(OrganisationDto, { partial: true }) body: Parsed<OrganisationDto>) {
      return this.organisations.update(caller, params.id, body);
    }

    @Roles('admin')
    @Post('organisations/:id/approve')
    @HttpCode(200)
    @op('approveOrganisation', 'Vet a proposed organisation: enable it (admin)')
    @AllocationAnswers(200, ORGANISATION_SCHEMA, 400, 403, 404)
    approve(@Caller() caller: Principal, @Param() params: IdParam) {
      return this.organisations.vet(caller, params.id, true);
    }

    @Roles('admin')
    @Post('organisations/:id/decline')
    @HttpCode(200)
    @op('declineOrganisation', 'Vet a proposed organisation: disable it (admin)')
    @AllocationAnswers(200, ORGANISATION_SCHEMA, 400, 403, 404)
    decline(@Caller() caller: Principal, @Param() params: IdParam) {
      return this.organisations.vet(caller, params.id, false);
    }
  }
  return nameController(OrganisationsController, 'Organisations', mount);
}

export const ORGANISATIONS_CONTROLLERS = ALLOCATION_MOUNTS.map(organisationsController);
