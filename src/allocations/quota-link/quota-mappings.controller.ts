import { Body, Controller, Delete, Get, HttpCode, Param, Put, Res } from '@nestjs/common';
import { FastifyReply } from 'fastify';
import { ApiResponse, ApiTags } from '@nestjs/swagger';
import { Roles } from '../../auth/auth.decorators';
import { ApiErrors } from '../../http/openapi';
import { AllocationOperation, QUOTA_MAPPING_SCHEMA } from '../shared/openapi';
import { IdParam } from '../shared/params';
import { PutQuotaMappingDto } from './dto/put-quota-mapping.dto';
import { QuotaMappingsService } from './quota-mappings.service';

/** The allocation-to-quota mapping (docs/allocations.md §10); errors are `{"error"}` like the rest of /admin. */
@ApiTags('admin')
@Roles('admin')
@Controller('admin/allocations/quota-mappings')
export class QuotaMappingsController {
  constructor(private readonly mappings: QuotaMappingsService) {}

  @Get()
  @AllocationOperation('listQuotaMappings', 'List the allocation-to-quota mappings (admin)')
  @ApiResponse({ status: 200, description: 'Success', content: { 'application/json': { schema: { type: 'object', properties: { mappings: { type: 'array', items: QUOTA_MAPPING_SCHEMA } } } } } })
  @ApiErrors('admin', 401, 403)
  list() {
    return this.mappings.list();
  }

  @Put()
  @AllocationOperation('putQuotaMapping', 'Create (201) or replace (200) the mapping of a codename and zone (admin)')
  @ApiResponse({ status: 200, description: 'Replaced', content: { 'application/json': { schema: QUOTA_MAPPING_SCHEMA } } })
  @ApiResponse({ status: 201, description: 'Created', content: { 'application/json': { schema: QUOTA_MAPPING_SCHEMA } } })
  @ApiErrors('admin', 400, 401, 403, 415)
  async put(@Body() body: PutQuotaMappingDto, @Res({ passthrough: true }) reply: FastifyReply) {
    const { created, mapping } = await this.mappings.put(body);
    void reply.status(created ? 201 : 200);
    return mapping;
  }

  @Delete(':id')
  @HttpCode(204)
  @AllocationOperation('deleteQuotaMapping', 'Delete a mapping (admin)')
  @ApiResponse({ status: 204, description: 'No content' })
  @ApiErrors('admin', 401, 403, 404)
  async remove(@Param() params: IdParam): Promise<void> {
    await this.mappings.remove(params.id);
  }
}
