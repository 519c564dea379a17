import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query, Req } from '@nestjs/common';
import { ApiSecurity, ApiTags } from '@nestjs/swagger';
import { FastifyRequest } from 'fastify';
import { ALL_ROLES, Public, Roles } from '../auth/auth.decorators';
import { AlmanachBody, queryDate } from './almanach-body';
import { filterImageMeta } from './almanach-version';
import { ListWindowQuery } from './almanach.commands';
import { AlmanachService } from './almanach.service';
import { EntityType } from './entity-version.entity';
import { parseInstanceUpdate } from './instance-update';

const WRITERS = ['admin', 'service'] as const;

/**
 * Almanach v1 (almanach-v1.md), under /v1 and unprefixed. The client accepts
 * exactly 200 for GET and PUT, 201 for POST and 202 for DELETE (1.4). HEAD on
 * /entity/{id} is Fastify's automatic HEAD of the GET route (empty body, same
 * status).
 */
@ApiTags('almanach')
@ApiSecurity('token')
@Controller(['v1', ''])
export class AlmanachController {
  constructor(private readonly almanach: AlmanachService) {}

  @Public()
  @Get('info')
  info() {
    return this.almanach.info();
  }

  @Roles(...WRITERS)
  @Post('project/:project_id/instance')
  @HttpCode(201)
  createInstance(@Param('project_id') projectId: string, @Body() body: unknown) {
    const b = new AlmanachBody(body);
    return this.almanach.createInstance({
      projectId,
      instanceId: b.string('id'),
      createdAt: b.date('created_at'),
      name: b.nullableString('name'),
      flavor: b.nullableString('flavor'),
      imageMeta: filterImageMeta({ distro: b.nullableString('os_distro'), version: b.nullableString('os_version'), os_type: b.nullableString('os_type') }),
    });
  }

  @Roles(...WRITERS)
  @Delete('instance/:instance_id')
  @HttpCode(202)
  deleteInstance(@Param('instance_id') id: string, @Body() body: unknown) {
    return this.almanach.deleteInstance({ instanceId: id, date: new AlmanachBody(body).date('date') });
  }

  @Roles(...WRITERS)
  @Put('instance/:instance_id/resize')
  @HttpCode(200)
  resizeInstance(@Param('instance_id') id: string, @Body() body: unknown) {
    const b = new AlmanachBody(body);
    const date = b.date('date');
    return this.almanach.resizeInstance({ instanceId: id, date, flavor: b.string('flavor') });
  }

  @Roles(...WRITERS)
  @Put('instance/:instance_id/rebuild')
  @HttpCode(200)
  rebuildInstance(@Param('instance_id') id: string, @Body() body: unknown) {
    const b = new AlmanachBody(body);
    const date = b.date('rebuild_date');
    const imageMeta = filterImageMeta({ distro: b.nullableString('distro'), version: b.nullableString('version'), os_type: b.nullableString('os_type') });
    return this.almanach.rebuildInstance({ instanceId: id, date, imageMeta });
  }

  @Roles(...ALL_ROLES)
  @Get('project/:project_id/instances')
  listInstances(@Req() req: FastifyRequest, @Param('project_id') projectId: string, @Query() query: Record<string, unknown>) {
    return this.almanach.listWindow(req.principal!, windowQuery(projectId, query, 'instance'));
  }

  @Roles(...WRITERS)
  @Post('project/:project_id/volume')
  @HttpCode(201)
  createVolume(@Param('project_id') projectId: string, @Body() body: unknown) {
    const b = new AlmanachBody(body);
    const volumeId = b.string('volume_id');
    const start = b.date('start');
    const volumeTypeId = b.nullableString('volume_type');
    const size = b.size('size');
    const name = b.nullableString('volume_name');
    return this.almanach.createVolume({ projectId, volumeId, start, volumeTypeId, size, name, attachedTo: b.idList('attached_to', true) });
  }

  @Roles(...WRITERS)
  @Delete('volume/:volume_id')
  @HttpCode(202)
  deleteVolume(@Param('volume_id') id: string, @Body() body: unknown) {
    return this.almanach.deleteVolume({ volumeId: id, date: new AlmanachBody(body).date('date') });
  }

  @Roles(...WRITERS)
  @Put('volume/:volume_id/resize')
  @HttpCode(200)
  resizeVolume(@Param('volume_id') id: string, @Body() body: unknown) {
    const b = new AlmanachBody(body);
    const size = b.size('size');
    return this.almanach.resizeVolume({ volumeId: id, size, date: b.date('date') });
  }

  @Roles(...WRITERS)
  @Put('volume/:volume_id/attach')
  @HttpCode(200)
  attachVolume(@Param('volume_id') id: string, @Body() body: unknown) {
    const b = new AlmanachBody(body);
    const date = b.date('date');
    return this.almanach.attachVolume({ volumeId: id, date, attachments: b.idList('attachments') });
  }

  @Roles(...WRITERS)
  @Put('volume/:volume_id/detach')
  @HttpCode(200)
  detachVolume(@Param('volume_id') id: string, @Body() body: unknown) {
    const b = new AlmanachBody(body);
    const date = b.date('date');
    return this.almanach.detachVolume({ volumeId: id, date, attachments: b.idList('attachments') });
  }

  @Roles(...ALL_ROLES)
  @Get('project/:project_id/volumes')
  listVolumes(@Req() req: FastifyRequest, @Param('project_id') projectId: string, @Query() query: Record<string, unknown>) {
    return this.almanach.listWindow(req.principal!, windowQuery(projectId, query, 'volume'));
  }

  @Roles(...ALL_ROLES)
  @Get('project/:project_id/entities')
  listEntities(@Req() req: FastifyRequest, @Param('project_id') projectId: string, @Query() query: Record<string, unknown>) {
    return this.almanach.listWindow(req.principal!, windowQuery(projectId, query));
  }

  @Roles(...WRITERS)
  @Put('entity/instance/:instance_id')
  @HttpCode(200)
  updateInstance(@Param('instance_id') id: string, @Query() query: Record<string, unknown>, @Body() body: unknown) {
    const window = query.start === undefined ? undefined : { start: queryDate(query, 'start'), end: queryDate(query, 'end') };
    return this.almanach.updateInstance({ instanceId: id, window, changes: parseInstanceUpdate(body) });
  }

  @Roles(...ALL_ROLES)
  @Get('entity/:entity_id')
  getEntity(@Req() req: FastifyRequest, @Param('entity_id') id: string) {
    return this.almanach.getEntity(req.principal!, id);
  }

  @Roles(...ALL_ROLES)
  @Get('volume_types')
  listVolumeTypes() {
    return this.almanach.listVolumeTypes();
  }

  @Roles(...ALL_ROLES)
  @Get('volume_type/:volume_type_id')
  getVolumeType(@Param('volume_type_id') id: string) {
    return this.almanach.getVolumeType(id);
  }

  @Roles(...WRITERS)
  @Post('volume_type')
  @HttpCode(201)
  createVolumeType(@Body() body: unknown) {
    const b = new AlmanachBody(body);
    const volumeTypeId = b.string('type_id');
    return this.almanach.createVolumeType({ volumeTypeId, name: b.string('type_name') });
  }

  @Roles(...WRITERS)
  @Delete('volume_type/:volume_type_id')
  @HttpCode(202)
  deleteVolumeType(@Param('volume_type_id') id: string) {
    return this.almanach.deleteVolumeType({ volumeTypeId: id });
  }
}

function windowQuery(projectId: string, query: Record<string, unknown>, entityType?: EntityType): ListWindowQuery {
  const start = queryDate(query, 'start');
  return { projectId, start, end: query.end === undefined ? undefined : queryDate(query, 'end'), entityType };
}
