import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { FastifyRequest } from 'fastify';
import { SiteKey } from '../auth/auth.decorators';
import { UsageService } from './usage.service';

/**
 * AMIE Usage API (amie-usage.md), site credentials only (2). The client
 * accepts exactly 200 from send, status and get_failed_records (3), so every
 * success is 200 although loading is asynchronous. Paths are registered
 * without the slash; the server-wide ignoreTrailingSlash serves both forms.
 * Bodies are validated by the compiled schemas of usage-validation.ts, not
 * by a DTO: per-record failures are part of a 200 answer.
 */
@ApiTags('amie')
@SiteKey()
@Controller('amie')
export class UsageController {
  constructor(private readonly usage: UsageService) {}

  @Post('usage')
  @HttpCode(200)
  submit(@Req() request: FastifyRequest, @Body() body: unknown) {
    return this.usage.submit(request.siteName!, body);
  }

  @Get('usage/status')
  status(@Req() request: FastifyRequest, @Query('FromTime') from: unknown, @Query('ToTime') to: unknown) {
    return this.usage.status(request.siteName!, from, to);
  }

  @Get('usage/failed')
  failed(@Req() request: FastifyRequest) {
    return this.usage.failedRecords(request.siteName!);
  }

  // The client's clear_failed_records([]) asks for usage/failed/: clears nothing (8).
  @Delete('usage/failed')
  clearNothing(@Req() request: FastifyRequest) {
    return this.usage.clearFailed(request.siteName!, undefined);
  }

  @Delete('usage/failed/:ids')
  clear(@Req() request: FastifyRequest, @Param('ids') ids: string) {
    return this.usage.clearFailed(request.siteName!, ids);
  }
}
