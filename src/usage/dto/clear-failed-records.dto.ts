import { ApiProperty } from '@nestjs/swagger';
import { Matches } from 'class-validator';
import { ClearFailedCommand } from '../usage.commands';

/** The largest bigint: a longer id cannot be a FailedRecordID and is ignored like any unknown id. */
const MAX_ID = '9223372036854775807';
const fitsBigint = (id: string) => id.length < MAX_ID.length || (id.length === MAX_ID.length && id <= MAX_ID);

/**
 * DELETE usage/failed/{FailedRecordIDs} (amie-usage.md 8): the ids the client
 * joins with commas, or `all` (any case). Anything else clears nothing and is
 * `400 FailedRecordIDs: ...`.
 */
export class ClearFailedRecordsParamsDto {
  @ApiProperty({
    description: 'FailedRecordIDs joined by commas (no spaces), or `all` for every outstanding failure of the site',
    example: '1042,1043',
    pattern: '^([Aa][Ll][Ll]|[1-9][0-9]*(,[1-9][0-9]*)*)$',
  })
  @Matches(/^(?:all|[1-9]\d*(?:,[1-9]\d*)*)$/i, { message: 'each id must be a positive integer, or the path must be "all"' })
  FailedRecordIDs: string;

  toCommand(): ClearFailedCommand {
    if (this.FailedRecordIDs.toLowerCase() === 'all') return { all: true };
    return { all: false, ids: [...new Set(this.FailedRecordIDs.split(',').filter(fitsBigint))] };
  }
}
