import { Controller, Get, HttpCode, Param, Patch, Post, Query, Req, Type } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { FastifyRequest } from 'fastify';
import { ALL_ROLES, Roles } from '../../auth/auth.decorators';
import { Principal } from '../../auth/principal';
import { AllocationBody, ApiQueryParams, Parsed } from '../shared/input';
import { ALLOCATION_MOUNTS, AllocationAnswers, AllocationMount, AllocationOperation, nameController, operationsOf, ALLOCATION_SCHEMA, APPROVER_INFO_SCHEMA, envelopeOf, VERSIONS_SCHEMA } from '../shared/openapi';
import { ListQuery, ListQueryPipe, PAGE_PARAMS, Paginator } from '../shared/paging';
import { IdParam } from '../shared/params';
import { Caller } from '../shared/principal';
import { AllocationsService } from './allocations.service';
import { AllocationDto, DeclineDto } from './dto/allocation.dto';
import { ALLOCATION_QUERY_PARAMS, AllocationCondition, parseAllocationFilter } from './filter';

const VERSIONS = { versions: [{ id: 'v1.2', status: 'CURRENT', version: '1.2' }] };

/**
 * The alias root `GET /allocations` (allocations.md 1). Only the alias has
 * it: under `/allocations/v1` the same position would be a collection named
 * `v1`, which does not exist.
 */
@ApiTags('allocations')
@Controller('allocations')
export class AllocationsRootController {
  @Roles(...ALL_ROLES)
  @Get()
  @AllocationOperation('getRootVersions', 'The versions document at the alias root')
  @AllocationAnswers(200, VERSIONS_SCHEMA)
  versions() {
    return VERSIONS;
  }
}

/**
 * Allocation requests (allocations.md 4-6) at `/allocations/v1` and the alias
 * `/allocations`: both prefixes carry exactly the same routes, and no
 * collection is called `v1`, so `/allocations/v1/...` never reaches an alias
 * route. Every POST that is an action answers 200 (5); create 201. Routes
 * that act on one allocation accept every role and check the role in the
 * service, after visibility, so that a user asking for a record it cannot see
 * gets 404 rather than 403 (5, check order). DELETE and PUT are not
 * registered, so they answer 405.
 */
function allocationsController(mount: AllocationMount): Type<object> {
  const op = operationsOf(mount);

  @ApiTags('allocations')
  @Controller(mount.prefix)
  class AllocationsController {
    constructor(
      private readonly allocations: AllocationsService,
      private readonly paginator: Paginator,
    ) {}

    @Roles(...ALL_ROLES)
    @Get('versions')
    @op('getVersions', 'The versions document')
    @AllocationAnswers(200, VERSIONS_SCHEMA)
    versions() {
      return VERSIONS;
    }

    @Roles(...ALL_ROLES)
    @Get('allocations')
    @op('listAllocations', 'List allocations the caller may see, newest first, with Django-style filters')
    @ApiQueryParams([...PAGE_PARAMS, ...ALLOCATION_QUERY_PARAMS])
    @AllocationAnswers(200, envelopeOf(ALLOCATION_SCHEMA), 400)
    async list(@Req() req: FastifyRequest, @Caller() caller: Principal, @Query(new ListQueryPipe(parseAllocationFilter)) query: ListQuery<AllocationCondition[]>) {
      return this.paginator.envelope(req, await this.allocations.list(caller, query.filter, query.page));
    }

    @Roles('admin', 'service', 'user')
    @Post('allocations')
    @HttpCode(201)
    @op('createAllocation', 'Submit an allocation request (status E)')
    @AllocationAnswers(201, ALLOCATION_SCHEMA, 400, 403, 409, 415)
    create(@Caller() caller: Principal, @AllocationBody(AllocationDto) body: Parsed<AllocationDto>) {
      return this.allocations.create(caller, body);
    }

    @Roles(...ALL_ROLES)
    @Get('allocations/:id')
    @op('getAllocation', 'Get an allocation')
    @AllocationAnswers(200, ALLOCATION_SCHEMA, 404)
    get(@Caller() caller: Principal, @Param() params: IdParam) {
      return this.allocations.get(caller, params.id);
    }

    @Roles(...ALL_ROLES)
    @Patch('allocations/:id')
    @op('updateAllocation', 'Change an allocation (fields by role)')
    @AllocationAnswers(200, ALLOCATION_SCHEMA, 400, 403, 404, 409, 415)
    update(@Caller() caller: Principal, @Param() params: IdParam, @AllocationBody(AllocationDto, { partial: true }) body: Parsed<AllocationDto>) {
      return this.allocations.update(caller, params.id, body);
    }

    @Roles(...ALL_ROLES)
    @Post('allocations/:id/approve')
    @HttpCode(200)
    @op('approveAllocation', 'Approve: E, X → A (admin, service); needs an associated_site')
    @AllocationAnswers(200, ALLOCATION_SCHEMA, 400, 403, 404, 409)
    approve(@Caller() caller: Principal, @Param() params: IdParam) {
      return this.allocations.approve(caller, params.id);
    }

    @Roles(...ALL_ROLES)
    @Post('allocations/:id/decline')
    @HttpCode(200)
    @op('declineAllocation', 'Decline: E → R, X → J (admin, service)')
    @AllocationAnswers(200, ALLOCATION_SCHEMA, 400, 403, 404, 409, 415)
    decline(@Caller() caller: Principal, @Param() params: IdParam, @AllocationBody(DeclineDto, { partial: true, required: false }) body: Parsed<DeclineDto>) {
      return this.allocations.decline(caller, params.id, body);
    }

    @Roles(...ALL_ROLES)
    @Post('allocations/:id/amend')
    @HttpCode(200)
    @op('amendAllocation', 'Amend: A, R, J → X (admin, service, owner)')
    @AllocationAnswers(200, ALLOCATION_SCHEMA, 403, 404, 409)
    amend(@Caller() caller: Principal, @Param() params: IdParam) {
      return this.allocations.amend(caller, params.id);
    }

    @Roles(...ALL_ROLES)
    @Post('allocations/:id/delete')
    @HttpCode(200)
    @op('deleteAllocation', 'Delete: any → D (admin, service); idempotent')
    @AllocationAnswers(200, ALLOCATION_SCHEMA, 403, 404, 409)
    remove(@Caller() caller: Principal, @Param() params: IdParam) {
      return this.allocations.remove(caller, params.id);
    }

    @Roles(...ALL_ROLES)
    @Get('allocations/:id/approver_info')
    @op('getApproverInfo', 'Approval urgency, expiry state and concerned sites (admin, service, reader)')
    @AllocationAnswers(200, APPROVER_INFO_SCHEMA, 400, 403, 404)
    approverInfo(@Caller() caller: Principal, @Param() params: IdParam) {
      return this.allocations.approverInfo(caller, params.id);
    }
  }
  return nameController(AllocationsController, 'Allocations', mount);
}

export const ALLOCATIONS_CONTROLLERS = ALLOCATION_MOUNTS.map(allocationsController);
