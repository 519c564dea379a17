import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ApiErrors, SECURITY_TOKEN } from '../http/openapi';
import { Roles } from './auth.decorators';
import { AuthService } from './auth.service';
import { CreateSiteDto, CreateTokenDto, SiteNameParams, TokenIdParams } from './dto/admin.dto';
import { CreatedSiteView, CreatedTokenView, RotatedSiteView, SiteView, TokenView } from './dto/admin.views';

/**
 * Credentials administration (auth.md, "Admin API"): role admin; no token
 * 401, any other role 403, the database gone 503.
 */
@ApiTags('admin')
@ApiSecurity(SECURITY_TOKEN)
@ApiErrors('admin', 401, 403, 503)
@Roles('admin')
@Controller('admin')
export class AdminController {
  constructor(private readonly auth: AuthService) {}

  @Post('tokens')
  @HttpCode(201)
  @ApiOperation({ operationId: 'admin.createToken', summary: 'Create a token; its secret appears only in this answer' })
  @ApiCreatedResponse({ type: CreatedTokenView })
  @ApiErrors('admin', 400, 415)
  createToken(@Body() body: CreateTokenDto): Promise<CreatedTokenView> {
    return this.auth.createToken(body);
  }

  @Get('tokens')
  @ApiOperation({ operationId: 'admin.listTokens', summary: 'List tokens, oldest first, without their secrets' })
  @ApiOkResponse({ type: [TokenView] })
  listTokens(): Promise<TokenView[]> {
    return this.auth.listTokens();
  }

  @Delete('tokens/:id')
  @HttpCode(204)
  @ApiOperation({ operationId: 'admin.deleteToken', summary: 'Delete a token; it stops working at once' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors('admin', 404)
  deleteToken(@Param() params: TokenIdParams): Promise<void> {
    return this.auth.deleteToken(params.id);
  }

  @Post('sites')
  @HttpCode(201)
  @ApiOperation({ operationId: 'admin.createSite', summary: 'Create an AMIE reporting site; its key appears only in this answer' })
  @ApiCreatedResponse({ type: CreatedSiteView })
  @ApiErrors('admin', 400, 409, 415)
  createSite(@Body() body: CreateSiteDto): Promise<CreatedSiteView> {
    return this.auth.createSite(body);
  }

  @Get('sites')
  @ApiOperation({ operationId: 'admin.listSites', summary: 'List AMIE reporting sites by name' })
  @ApiOkResponse({ type: [SiteView] })
  listSites(): Promise<SiteView[]> {
    return this.auth.listSites();
  }

  @Post('sites/:name/rotate')
  @HttpCode(200)
  @ApiOperation({ operationId: 'admin.rotateSite', summary: "Give a site a new key; the old one stops working at once" })
  @ApiOkResponse({ type: RotatedSiteView })
  @ApiErrors('admin', 404)
  rotateSite(@Param() params: SiteNameParams): Promise<RotatedSiteView> {
    return this.auth.rotateSite(params.name);
  }
}
