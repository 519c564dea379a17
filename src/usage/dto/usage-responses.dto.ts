import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/**
 * The success answers of /amie (amie-usage.md 4.9, 6, 7, 8), for the OpenAPI
 * document and as the controller's return types. Every name is the
 * protocol's: the client reads these keys.
 */

const USAGE_TYPE = { enum: ['Compute', 'Storage', 'Adjustment'], description: 'exactly as written here (the client is case-sensitive)' };

/** A failed-record entry: the record as received plus three keys (4.9). */
export class AmieFailedRecordDto {
  @ApiProperty(USAGE_TYPE)
  UsageType: string;

  @ApiProperty({ description: '`<Field>: <rule>` problems joined by "; " (5.5)', example: 'Charge: must not be negative' })
  Error: string;

  @ApiProperty({ type: 'integer', description: 'unique across the service; what DELETE usage/failed/{ids} takes', example: 1042 })
  FailedRecordID: number;

  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    description: 'when the record failed (status and the listing; not in the submission answer)',
    example: '2024-05-01T12:00:00.000Z',
  })
  FailedAt?: string;

  // The record's own fields follow: every field of its type's table (null when
  // the original lacked it), unknown fields as sent. OpenAPI's default
  // (additional properties allowed) says so; their schema is the request's.
}

export class AmieUsageResponseDto {
  @ApiProperty({ example: '5 records received, 3 queued for processing, 2 failed validation' })
  Message: string;

  @ApiProperty({ type: 'integer', description: 'QueuedRecordCount + ValidationFailedRecordCount' })
  ReceivedRecordCount: number;

  @ApiProperty({ type: 'integer' })
  QueuedRecordCount: number;

  @ApiProperty({ type: 'integer' })
  ValidationFailedRecordCount: number;

  @ApiProperty({ type: () => [AmieFailedRecordDto], description: 'in submission order; [] when none' })
  ValidationFailedRecords: AmieFailedRecordDto[];
}

export class AmieUsageErrorGroupDto {
  @ApiProperty({ example: 'Charge: must not be negative' })
  Error: string;

  @ApiProperty(USAGE_TYPE)
  UsageType: string;

  @ApiProperty({ type: 'integer', description: 'the full size of the group' })
  RecordCount: number;

  @ApiProperty({ type: () => [AmieFailedRecordDto], description: 'oldest first, at most 1,000' })
  Records: AmieFailedRecordDto[];
}

export class AmieUsageStatusEntryDto {
  @ApiProperty({ description: '"" gathers failed records without a usable Resource', example: 'cluster-a' })
  Resource: string;

  @ApiProperty({ type: 'integer' })
  LoadedRecordCount: number;

  @ApiProperty({ type: 'integer', description: 'outstanding failed records of any usage type' })
  FailedJobCount: number;

  @ApiProperty({ type: Number, description: 'sum of Charge over the loaded records, as sent (unsigned)', example: 5321.75 })
  TotalCharge: number;

  @ApiProperty({ type: 'integer', description: 'records still queued, by receipt time' })
  PendingRecordCount: number;

  @ApiProperty({ type: () => [AmieUsageErrorGroupDto], description: 'one group per (Error, UsageType), sorted by Error then UsageType' })
  Errors: AmieUsageErrorGroupDto[];
}

export class AmieFailedRecordListDto {
  @ApiProperty({ type: () => [AmieFailedRecordDto], description: 'every outstanding failure of the site, by FailedRecordID' })
  ValidationFailedRecords: AmieFailedRecordDto[];

  @ApiProperty({ type: 'integer' })
  FailedRecordCount: number;
}

export class AmieClearFailedRecordsResponseDto {
  @ApiProperty({ example: '2 failed records cleared' })
  Message: string;

  @ApiProperty({ type: 'integer' })
  ClearedRecordCount: number;
}
