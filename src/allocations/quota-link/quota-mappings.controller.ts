import { Body, Controller, Delete, Get, HttpCode, Param, Put, Res } from '@nestjs/common';
import { ApiSecurity, ApiTags } from '@nestjs/swagger';
import { FastifyReply } from 'fastify';
import { Roles } from '../../auth/auth.decorators';
import { QuotaMappingsService } from './quota-mappings.service';

/** The allocation-to-quota mapping (docs/allocations.md §10); errors are `{"error"}` like the rest of /admin. */
@ApiTags('admin')
@ApiSecurity('token')
@Roles('admin')
@Controller('admin/allocations/quota-mappings')
export class QuotaMappingsController {
  constructor(private readonly mappings: QuotaMappingsService) {}

  @Get()
  list() {
    return this.mappings.list();
  }

  @Put()
  async put(@Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply) {
    const { created, mapping } = await this.mappings.put(body);
    void reply.status(created ? 201 : 200);
    return mapping;
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@Param('id') id: string): Promise<void> {
    await this.mappings.remove(id);
  }
}
