import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiSecurity, ApiTags } from '@nestjs/swagger';
import { Roles } from './auth.decorators';
import { AuthService } from './auth.service';
import { CreateSiteDto, CreateTokenDto } from './dto/admin.dto';

/** Credentials administration (auth.md, "Admin API"). */
@ApiTags('admin')
@ApiSecurity('token')
@Roles('admin')
@Controller('admin')
export class AdminController {
  constructor(private readonly auth: AuthService) {}

  @Post('tokens')
  @HttpCode(201)
  createToken(@Body() body: CreateTokenDto) {
    return this.auth.createToken(body);
  }

  @Get('tokens')
  listTokens() {
    return this.auth.listTokens();
  }

  @Delete('tokens/:id')
  @HttpCode(204)
  deleteToken(@Param('id') id: string) {
    return this.auth.deleteToken(id);
  }

  @Post('sites')
  @HttpCode(201)
  createSite(@Body() body: CreateSiteDto) {
    return this.auth.createSite(body);
  }

  @Get('sites')
  listSites() {
    return this.auth.listSites();
  }

  @Post('sites/:name/rotate')
  @HttpCode(200)
  rotateSite(@Param('name') name: string) {
    return this.auth.rotateSite(name);
  }
}
