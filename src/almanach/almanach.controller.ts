import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query, Req } from '@nestjs/common';
import { ApiSecurity, ApiTags } from '@nestjs/swagger';
import { FastifyRequest } from 'fastify';
import { ALL_ROLES, Public, Roles } from '../auth/auth.decorators';
import { AlmanachService } from './almanach.service';

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
    return this.almanach.createInstance(projectId, body);
  }

  @Roles(...WRITERS)
  @Delete('instance/:instance_id')
  @HttpCode(202)
  deleteInstance(@Param('instance_id') id: string, @Body() body: unknown) {
    return this.almanach.deleteInstance(id, body);
  }

  @Roles(...WRITERS)
  @Put('instance/:instance_id/resize')
  @HttpCode(200)
  resizeInstance(@Param('instance_id') id: string, @Body() body: unknown) {
    return this.almanach.resizeInstance(id, body);
  }

  @Roles(...WRITERS)
  @Put('instance/:instance_id/rebuild')
  @HttpCode(200)
  rebuildInstance(@Param('instance_id') id: string, @Body() body: unknown) {
    return this.almanach.rebuildInstance(id, body);
  }

  @Roles(...ALL_ROLES)
  @Get('project/:project_id/instances')
  listInstances(@Req() req: FastifyRequest, @Param('project_id') projectId: string, @Query() query: Record<string, unknown>) {
    return this.almanach.listWindow(req.principal!, projectId, query, 'instance');
  }

  @Roles(...WRITERS)
  @Post('project/:project_id/volume')
  @HttpCode(201)
  createVolume(@Param('project_id') projectId: string, @Body() body: unknown) {
    return this.almanach.createVolume(projectId, body);
  }

  @Roles(...WRITERS)
  @Delete('volume/:volume_id')
  @HttpCode(202)
  deleteVolume(@Param('volume_id') id: string, @Body() body: unknown) {
    return this.almanach.deleteVolume(id, body);
  }

  @Roles(...WRITERS)
  @Put('volume/:volume_id/resize')
  @HttpCode(200)
  resizeVolume(@Param('volume_id') id: string, @Body() body: unknown) {
    return this.almanach.resizeVolume(id, body);
  }

  @Roles(...WRITERS)
  @Put('volume/:volume_id/attach')
  @HttpCode(200)
  attachVolume(@Param('volume_id') id: string, @Body() body: unknown) {
    return this.almanach.setAttachments(id, body, 'attach');
  }

  @Roles(...WRITERS)
  @Put('volume/:volume_id/detach')
  @HttpCode(200)
  detachVolume(@Param('volume_id') id: string, @Body() body: unknown) {
    return this.almanach.setAttachments(id, body, 'detach');
  }

  @Roles(...ALL_ROLES)
  @Get('project/:project_id/volumes')
  listVolumes(@Req() req: FastifyRequest, @Param('project_id') projectId: string, @Query() query: Record<string, unknown>) {
    return this.almanach.listWindow(req.principal!, projectId, query, 'volume');
  }

  @Roles(...ALL_ROLES)
  @Get('project/:project_id/entities')
  listEntities(@Req() req: FastifyRequest, @Param('project_id') projectId: string, @Query() query: Record<string, unknown>) {
    return this.almanach.listWindow(req.principal!, projectId, query);
  }

  @Roles(...WRITERS)
  @Put('entity/instance/:instance_id')
  @HttpCode(200)
  updateInstance(@Param('instance_id') id: string, @Query() query: Record<string, unknown>, @Body() body: unknown) {
    return this.almanach.updateInstance(id, query, body);
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
    return this.almanach.createVolumeType(body);
  }

  @Roles(...WRITERS)
  @Delete('volume_type/:volume_type_id')
  @HttpCode(202)
  deleteVolumeType(@Param('volume_type_id') id: string) {
    return this.almanach.deleteVolumeType(id);
  }
}
