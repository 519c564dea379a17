import { applyDecorators, Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query, Req, Res, UseGuards } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBody,
  ApiCreatedResponse,
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiSecurity,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { FastifyReply, FastifyRequest } from 'fastify';
import { Role } from '../auth/api-token.entity';
import { ALL_ROLES, Public, Roles, RolesCheckedByStatement } from '../auth/auth.decorators';
import { CredentialForStatement, StatementCredential } from '../auth/statement-credential';
import { jsonText } from '../http/json-text';
import { ApiErrors, SECURITY_TOKEN } from '../http/openapi';
import { filterImageMeta } from './almanach-version';
import { AlmanachService } from './almanach.service';
import { OwnProjectGuard } from './own-project.guard';
import { CreateInstanceDto, DeleteEventDto, RebuildInstanceDto, ResizeInstanceDto, UpdateInstanceDto, UpdateInstanceQueryDto } from './dto/instance.dto';
import { EntityParams, InstanceParams, ProjectParams, VolumeParams, VolumeTypeParams } from './dto/params.dto';
import { InfoView, InstanceVersionView, VolumeTypeView, VolumeVersionView } from './dto/views';
import { AttachmentsDto, CreateVolumeDto, ResizeVolumeDto } from './dto/volume.dto';
import { CreateVolumeTypeDto } from './dto/volume-type.dto';
import { WindowQueryDto } from './dto/window-query.dto';

const WRITERS: readonly Role[] = ['admin', 'service'];

/** Who may call a route (almanach-v1.md 8.2) and its security scheme in the OpenAPI document. */
const Writers = () => applyDecorators(Roles(...WRITERS), ApiSecurity(SECURITY_TOKEN));
/** Writers of an entity, whose transaction's first statement confirms a token taken from memory (AccessRule `checkedByStatement`). */
const EntityWriters = () => applyDecorators(RolesCheckedByStatement(...WRITERS), ApiSecurity(SECURITY_TOKEN));
const Readers = () => applyDecorators(Roles(...ALL_ROLES), ApiSecurity(SECURITY_TOKEN));
/** Readers of a window listing, whose one statement confirms a token taken from memory (AccessRule `checkedByStatement`). */
const ListingReaders = () => applyDecorators(RolesCheckedByStatement(...ALL_ROLES), ApiSecurity(SECURITY_TOKEN));

const Operation = (name: string, summary: string) => ApiOperation({ operationId: `almanach.${name}`, summary });

const VERSION = { oneOf: [{ $ref: getSchemaPath(InstanceVersionView) }, { $ref: getSchemaPath(VolumeVersionView) }] };
const VERSIONS = { type: 'array', items: VERSION };
const EMPTY = 'Empty body (Content-Length: 0)';

/**
 * Almanach v1 (almanach-v1.md), under /v1 and unprefixed. The client accepts
 * exactly 200 for GET and PUT, 201 for POST and 202 for DELETE (1.4). HEAD on
 * /entity/{id} is Fastify's automatic HEAD of the GET route (empty body, same
 * status). Inputs are DTOs validated at the edge (dto/almanach-input.ts holds
 * the mount's error wording); each handler maps its DTO to a command.
 */
@ApiTags('almanach')
@ApiExtraModels(InstanceVersionView, VolumeVersionView)
@Controller(['v1', ''])
export class AlmanachController {
  constructor(private readonly almanach: AlmanachService) {}

  @Public()
  @Get('info')
  @Operation('getInfo', 'Service version and the counts of all and open versions (no token)')
  @ApiOkResponse({ type: InfoView })
  info() {
    return this.almanach.info();
  }

  @EntityWriters()
  @Post('project/:project_id/instance')
  @HttpCode(201)
  @Operation('createInstance', 'An instance was created: open its first version')
  @ApiCreatedResponse({ description: `${EMPTY}; a re-delivered create changes nothing` })
  @ApiErrors('almanach', 400, 401, 403, 409, 413)
  createInstance(@Param() { project_id }: ProjectParams, @Body() body: CreateInstanceDto, @CredentialForStatement() credential: StatementCredential | undefined) {
    return this.almanach.createInstance({
      projectId: project_id,
      instanceId: body.id,
      createdAt: body.created_at,
      name: body.name,
      flavor: body.flavor,
      imageMeta: filterImageMeta({ distro: body.os_distro, version: body.os_version, os_type: body.os_type }),
    }, { credential });
  }

  @EntityWriters()
  @Delete('instance/:instance_id')
  @HttpCode(202)
  @Operation('deleteInstance', 'An instance was deleted: close its open version at the date')
  @ApiAcceptedResponse({ description: EMPTY })
  @ApiErrors('almanach', 400, 401, 403, 404, 413)
  deleteInstance(@Param() { instance_id }: InstanceParams, @Body() body: DeleteEventDto, @CredentialForStatement() credential: StatementCredential | undefined) {
    return this.almanach.deleteInstance({ instanceId: instance_id, date: body.date }, { credential });
  }

  @EntityWriters()
  @Put('instance/:instance_id/resize')
  @HttpCode(200)
  @Operation('resizeInstance', 'The flavor changed: a new version unless the flavor is the same')
  @ApiOkResponse({ description: EMPTY })
  @ApiErrors('almanach', 400, 401, 403, 404, 413)
  resizeInstance(@Param() { instance_id }: InstanceParams, @Body() body: ResizeInstanceDto, @CredentialForStatement() credential: StatementCredential | undefined) {
    return this.almanach.resizeInstance({ instanceId: instance_id, date: body.date, flavor: body.flavor }, { credential });
  }

  @EntityWriters()
  @Put('instance/:instance_id/rebuild')
  @HttpCode(200)
  @Operation('rebuildInstance', 'The image changed: a new version unless the image data is the same')
  @ApiOkResponse({ description: EMPTY })
  @ApiErrors('almanach', 400, 401, 403, 404, 413)
  rebuildInstance(@Param() { instance_id }: InstanceParams, @Body() body: RebuildInstanceDto, @CredentialForStatement() credential: StatementCredential | undefined) {
    return this.almanach.rebuildInstance({
      instanceId: instance_id,
      date: body.rebuild_date,
      imageMeta: filterImageMeta({ distro: body.distro, version: body.version, os_type: body.os_type }),
    }, { credential });
  }

  @ListingReaders()
  @Get('project/:project_id/instances')
  @UseGuards(OwnProjectGuard)
  @Operation('listInstances', 'Instance versions of a project overlapping [start, end]')
  @ApiOkResponse({ schema: { type: 'array', items: { $ref: getSchemaPath(InstanceVersionView) } } })
  @ApiErrors('almanach', 400, 401, 403)
  async listInstances(@Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @Param() { project_id }: ProjectParams, @Query() query: WindowQueryDto, @CredentialForStatement() credential: StatementCredential | undefined) {
    return jsonText(reply, await this.almanach.listWindow(req.principal!, { projectId: project_id, start: query.start, end: query.end, entityType: 'instance', credential }));
  }

  @EntityWriters()
  @Post('project/:project_id/volume')
  @HttpCode(201)
  @Operation('createVolume', 'A volume was created: open its first version')
  @ApiCreatedResponse({ description: `${EMPTY}; a re-delivered create changes nothing` })
  @ApiErrors('almanach', 400, 401, 403, 404, 409, 413)
  createVolume(@Param() { project_id }: ProjectParams, @Body() body: CreateVolumeDto, @CredentialForStatement() credential: StatementCredential | undefined) {
    return this.almanach.createVolume({
      projectId: project_id,
      volumeId: body.volume_id,
      start: body.start,
      volumeTypeId: body.volume_type,
      size: body.size,
      name: body.volume_name,
      attachedTo: body.attached_to,
    }, { credential });
  }

  @EntityWriters()
  @Delete('volume/:volume_id')
  @HttpCode(202)
  @Operation('deleteVolume', 'A volume was deleted: close its open version (or discard one younger than 60 s)')
  @ApiAcceptedResponse({ description: EMPTY })
  @ApiErrors('almanach', 400, 401, 403, 404, 413)
  deleteVolume(@Param() { volume_id }: VolumeParams, @Body() body: DeleteEventDto, @CredentialForStatement() credential: StatementCredential | undefined) {
    return this.almanach.deleteVolume({ volumeId: volume_id, date: body.date }, { credential });
  }

  @EntityWriters()
  @Put('volume/:volume_id/resize')
  @HttpCode(200)
  @Operation('resizeVolume', 'The size changed: a new version unless the size is the same')
  @ApiOkResponse({ description: EMPTY })
  @ApiErrors('almanach', 400, 401, 403, 404, 413)
  resizeVolume(@Param() { volume_id }: VolumeParams, @Body() body: ResizeVolumeDto, @CredentialForStatement() credential: StatementCredential | undefined) {
    return this.almanach.resizeVolume({ volumeId: volume_id, date: body.date, size: body.size }, { credential });
  }

  @EntityWriters()
  @Put('volume/:volume_id/attach')
  @HttpCode(200)
  @Operation('attachVolume', 'Attached: `attachments` is the complete list after the event')
  @ApiOkResponse({ description: EMPTY })
  @ApiErrors('almanach', 400, 401, 403, 404, 413)
  attachVolume(@Param() { volume_id }: VolumeParams, @Body() body: AttachmentsDto, @CredentialForStatement() credential: StatementCredential | undefined) {
    return this.almanach.attachVolume({ volumeId: volume_id, date: body.date, attachments: body.attachments }, { credential });
  }

  @EntityWriters()
  @Put('volume/:volume_id/detach')
  @HttpCode(200)
  @Operation('detachVolume', 'Detached: `attachments` is the list that remains after the event')
  @ApiOkResponse({ description: EMPTY })
  @ApiErrors('almanach', 400, 401, 403, 404, 413)
  detachVolume(@Param() { volume_id }: VolumeParams, @Body() body: AttachmentsDto, @CredentialForStatement() credential: StatementCredential | undefined) {
    return this.almanach.detachVolume({ volumeId: volume_id, date: body.date, attachments: body.attachments }, { credential });
  }

  @ListingReaders()
  @Get('project/:project_id/volumes')
  @UseGuards(OwnProjectGuard)
  @Operation('listVolumes', 'Volume versions of a project overlapping [start, end]')
  @ApiOkResponse({ schema: { type: 'array', items: { $ref: getSchemaPath(VolumeVersionView) } } })
  @ApiErrors('almanach', 400, 401, 403)
  async listVolumes(@Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @Param() { project_id }: ProjectParams, @Query() query: WindowQueryDto, @CredentialForStatement() credential: StatementCredential | undefined) {
    return jsonText(reply, await this.almanach.listWindow(req.principal!, { projectId: project_id, start: query.start, end: query.end, entityType: 'volume', credential }));
  }

  @ListingReaders()
  @Get('project/:project_id/entities')
  @UseGuards(OwnProjectGuard)
  @Operation('listEntities', 'Instance and volume versions of a project overlapping [start, end]')
  @ApiOkResponse({ schema: VERSIONS })
  @ApiErrors('almanach', 400, 401, 403)
  async listEntities(@Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @Param() { project_id }: ProjectParams, @Query() query: WindowQueryDto, @CredentialForStatement() credential: StatementCredential | undefined) {
    return jsonText(reply, await this.almanach.listWindow(req.principal!, { projectId: project_id, start: query.start, end: query.end, credential }));
  }

  @EntityWriters()
  @Put('entity/instance/:instance_id')
  @HttpCode(200)
  @Operation('updateInstance', 'Correct the open version, or with ?start=&end= the one closed version inside that window')
  @ApiBody({ type: UpdateInstanceDto })
  @ApiOkResponse({ type: InstanceVersionView, description: 'The updated version' })
  @ApiErrors('almanach', 400, 401, 403, 404, 413)
  // The query is checked before the body, as the reference did: Nest runs the
  // pipes of the last parameter first, hence @Query() after @Body().
  updateInstance(@Param() { instance_id }: InstanceParams, @Body() body: UpdateInstanceDto, @Query() query: UpdateInstanceQueryDto, @CredentialForStatement() credential: StatementCredential | undefined) {
    return this.almanach.updateInstance({
      instanceId: instance_id,
      window: query.start === undefined ? undefined : { start: query.start, end: query.end! },
      changes: {
        name: body.name,
        flavor: body.flavor,
        os: body.os,
        metadata: body.metadata,
        startDate: body.start_date,
        endDate: body.end_date,
      },
    }, { credential });
  }

  @Readers()
  @Get('entity/:entity_id')
  @Operation('getEntity', 'Every version of one instance or volume (HEAD: 200 or 404, no body)')
  @ApiOkResponse({ schema: VERSIONS })
  @ApiErrors('almanach', 401, 404)
  getEntity(@Req() req: FastifyRequest, @Param() { entity_id }: EntityParams) {
    return this.almanach.getEntity(req.principal!, entity_id);
  }

  @Readers()
  @Get('volume_types')
  @Operation('listVolumeTypes', 'Every volume type')
  @ApiOkResponse({ type: [VolumeTypeView] })
  @ApiErrors('almanach', 401)
  listVolumeTypes() {
    return this.almanach.listVolumeTypes();
  }

  @Readers()
  @Get('volume_type/:volume_type_id')
  @Operation('getVolumeType', 'One volume type')
  @ApiOkResponse({ type: VolumeTypeView })
  @ApiErrors('almanach', 401, 404)
  getVolumeType(@Param() { volume_type_id }: VolumeTypeParams) {
    return this.almanach.getVolumeType(volume_type_id);
  }

  @Writers()
  @Post('volume_type')
  @HttpCode(201)
  @Operation('createVolumeType', 'Create a volume type (same id and name again: no change)')
  @ApiCreatedResponse({ description: EMPTY })
  @ApiErrors('almanach', 400, 401, 403, 409, 413)
  createVolumeType(@Body() body: CreateVolumeTypeDto) {
    return this.almanach.createVolumeType({ volumeTypeId: body.type_id, name: body.type_name });
  }

  @Writers()
  @Delete('volume_type/:volume_type_id')
  @HttpCode(202)
  @Operation('deleteVolumeType', 'Delete a volume type; volumes keep its name')
  @ApiAcceptedResponse({ description: EMPTY })
  @ApiErrors('almanach', 401, 403, 404)
  deleteVolumeType(@Param() { volume_type_id }: VolumeTypeParams) {
    return this.almanach.deleteVolumeType({ volumeTypeId: volume_type_id });
  }
}
