import { Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { SiteKey } from '../auth/auth.decorators';
import { ApiErrors, SECURITY_AMIE } from '../http/openapi';
import { ClearFailedRecordsParamsDto } from './dto/clear-failed-records.dto';
import { UsageStatusQueryDto } from './dto/usage-status-query.dto';
import {
  AmieClearFailedRecordsResponseDto,
  AmieFailedRecordListDto,
  AmieUsageResponseDto,
  AmieUsageStatusEntryDto,
} from './dto/usage-responses.dto';
import { SiteKeyToCheck, SiteName } from './site-name.decorator';
import { SubmitUsageCommand } from './usage.commands';
import { UsageMessage, UsageMessagePipe } from './usage-message.pipe';
import { USAGE_MESSAGE_SCHEMA } from './usage-validation';
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
@ApiSecurity(SECURITY_AMIE)
@SiteKey()
@Controller('amie')
export class UsageController {
  constructor(private readonly usage: UsageService) {}

  @Post('usage')
  @SiteKey({ checkedByWrite: true })
  @HttpCode(200)
  @ApiOperation({
    operationId: 'amie.submitUsage',
    summary: 'Submit compute, storage or adjustment records (UsageClient.send)',
    description: 'Answers 200 once the records are stored, even when some or all failed validation; loading is asynchronous.',
  })
  @ApiBody({ schema: USAGE_MESSAGE_SCHEMA })
  @ApiOkResponse({ type: AmieUsageResponseDto })
  @ApiErrors('amie', 400, 401, 403, 413, 415)
  submit(
    @SiteName() site: string,
    @SiteKeyToCheck() keyHash: string | null,
    @UsageMessage(UsageMessagePipe) command: SubmitUsageCommand,
  ): Promise<AmieUsageResponseDto> {
    return this.usage.submit(site, command, keyHash);
  }

  @Get('usage/status')
  @ApiOperation({ operationId: 'amie.getUsageStatus', summary: 'Loaded, failed and pending records per resource over [FromTime, ToTime) of processing time (UsageClient.status)' })
  @ApiOkResponse({ type: AmieUsageStatusEntryDto, isArray: true })
  @ApiErrors('amie', 400, 401, 403)
  status(@SiteName() site: string, @Query() query: UsageStatusQueryDto): Promise<AmieUsageStatusEntryDto[]> {
    return this.usage.status(site, query.toRange());
  }

  @Get('usage/failed')
  @ApiOperation({ operationId: 'amie.listFailedRecords', summary: 'Every outstanding failed record of the site (UsageClient.get_failed_records)' })
  @ApiOkResponse({ type: AmieFailedRecordListDto })
  @ApiErrors('amie', 401, 403)
  failed(@SiteName() site: string): Promise<AmieFailedRecordListDto> {
    return this.usage.failedRecords(site);
  }

  // The client's clear_failed_records([]) asks for usage/failed/: clears nothing (8).
  @Delete('usage/failed')
  @ApiOperation({ operationId: 'amie.clearNoFailedRecords', summary: 'Clear an empty list of failed records: clears nothing (UsageClient.clear_failed_records([]))' })
  @ApiOkResponse({ type: AmieClearFailedRecordsResponseDto })
  @ApiErrors('amie', 401, 403)
  clearNothing(@SiteName() site: string): Promise<AmieClearFailedRecordsResponseDto> {
    return this.usage.clearFailed(site, { all: false, ids: [] });
  }

  @Delete('usage/failed/:FailedRecordIDs')
  @ApiOperation({ operationId: 'amie.clearFailedRecords', summary: 'Clear failed records by FailedRecordID, or all of them (UsageClient.clear_failed_records)' })
  @ApiOkResponse({ type: AmieClearFailedRecordsResponseDto })
  @ApiErrors('amie', 400, 401, 403)
  clear(@SiteName() site: string, @Param() params: ClearFailedRecordsParamsDto): Promise<AmieClearFailedRecordsResponseDto> {
    return this.usage.clearFailed(site, params.toCommand());
  }
}
