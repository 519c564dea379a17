import { Body, Controller, Delete, Get, HttpCode, Param, Put, Query, Res } from '@nestjs/common';
import { FastifyReply } from 'fastify';
import { Roles } from '../auth/auth.decorators';
import { validateDto } from '../http/validation.pipe';
import { ListHoldingsQueryDto, PutHoldingsDto, PutResourceDto, ResourceNameParamsDto } from './dto/quotas-admin.dto';
import { QuotasService } from './quotas.service';

/** Resource definitions and limits (quotas.md 6); errors are `{"error"}` like the rest of /admin. */
@Roles('admin')
@Controller('admin/quotas')
export class QuotasAdminController {
  constructor(private readonly quotas: QuotasService) {}

  // An empty name never reaches the route below; answer it as the contract says (400 naming `name`), not 404.
  @Put('resources')
  putResourceWithoutName(): never {
    validateDto(ResourceNameParamsDto, { name: '' }, 'path parameters');
    throw new Error('unreachable: an empty resource name always fails its DTO');
  }

  @Put('resources/:name')
  async putResource(@Param() params: ResourceNameParamsDto, @Body() body: PutResourceDto, @Res({ passthrough: true }) reply: FastifyReply) {
    const { created, resource } = await this.quotas.putResource(params.name, body);
    void reply.status(created ? 201 : 200);
    return resource;
  }

  @Delete('resources/:name')
  @HttpCode(204)
  async deleteResource(@Param() params: ResourceNameParamsDto): Promise<void> {
    await this.quotas.deleteResource(params.name);
  }

  @Put('holdings')
  putHoldings(@Body() body: PutHoldingsDto) {
    return this.quotas.putHoldings(body);
  }

  @Get('holdings')
  listHoldings(@Query() query: ListHoldingsQueryDto) {
    return this.quotas.listHoldings(query);
  }
}
