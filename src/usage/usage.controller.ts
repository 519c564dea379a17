import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { SiteKey } from '../auth/auth.decorators';
import { ClearFailedRecordsParamsDto } from './dto/clear-failed-records.dto';
import { UsageStatusQueryDto } from './dto/usage-status-query.dto';
import { SiteName } from './site-name.decorator';
import { SubmitUsageCommand } from './usage.commands';
import { UsageMessagePipe } from './usage-message.pipe';
import { UsageService } from './usage.service';

/**
 * AMIE Usage API (amie-usage.md), site credentials only (2). The client
 * accepts exactly 200 from send, status and get_failed_records (3), so every
 * success is 200 although loading is asynchronous. Paths are registered
 * without the slash; the server-wide ignoreTrailingSlash serves both forms.
 * The submission body goes through UsageMessagePipe (compiled schemas:
 * per-record failures are part of a 200 answer); the other inputs are DTOs
 * checked by the global DtoValidationPipe.
 */
@ApiTags('amie')
@SiteKey()
@Controller('amie')
export class UsageController {
  constructor(private readonly usage: UsageService) {}

  @Post('usage')
  @HttpCode(200)
  submit(@SiteName() site: string, @Body(UsageMessagePipe) command: SubmitUsageCommand) {
    return this.usage.submit(site, command);
  }

  @Get('usage/status')
  status(@SiteName() site: string, @Query() query: UsageStatusQueryDto) {
    return this.usage.status(site, query.toRange());
  }

  @Get('usage/failed')
  failed(@SiteName() site: string) {
    return this.usage.failedRecords(site);
  }

  // The client's clear_failed_records([]) asks for usage/failed/: clears nothing (8).
  @Delete('usage/failed')
  clearNothing(@SiteName() site: string) {
    return this.usage.clearFailed(site, { all: false, ids: [] });
  }

  @Delete('usage/failed/:FailedRecordIDs')
  clear(@SiteName() site: string, @Param() params: ClearFailedRecordsParamsDto) {
    return this.usage.clearFailed(site, params.toCommand());
  }
}
