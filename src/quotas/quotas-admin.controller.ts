import { Body, Controller, Delete, Get, HttpCode, Param, Put, Query, Res } from '@nestjs/common';
import { ApiSecurity, ApiTags } from '@nestjs/swagger';
import { FastifyReply } from 'fastify';
import { Roles } from '../auth/auth.decorators';
import { QuotasService } from './quotas.service';

/** Resource definitions and limits (quotas.md 6); errors are `{"error"}` like the rest of /admin. */
@ApiTags('admin')
@ApiSecurity('token')
@Roles('admin')
@Controller('admin/quotas')
export class QuotasAdminController {
  constructor(private readonly quotas: QuotasService) {}

  // An empty name never reaches the route below; answer it as the contract says (400), not 404.
  @Put('resources')
  putResourceWithoutName(@Body() body: unknown) {
    return this.quotas.putResource('', body);
  }

  @Put('resources/:name')
  async putResource(@Param('name') name: string, @Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply) {
    const { created, resource } = await this.quotas.putResource(name, body);
    void reply.status(created ? 201 : 200);
    return resource;
  }

  @Delete('resources/:name')
  @HttpCode(204)
  async deleteResource(@Param('name') name: string): Promise<void> {
    await this.quotas.deleteResource(name);
  }

  @Put('holdings')
  putHoldings(@Body() body: unknown) {
    return this.quotas.putHoldings(body);
  }

  @Get('holdings')
  listHoldings(@Query() query: Record<string, unknown>) {
    return this.quotas.listHoldings(query);
  }
}
