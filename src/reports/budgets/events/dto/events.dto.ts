import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsOptional, IsString, Length, Matches, MaxLength, ValidateBy } from 'class-validator';
import { ListParam } from '../../../usage/dto/usage-filters.dto';
import { LimitParam } from '../../../usage/dto/usage-query.dto';
import { ReportsInput } from '../../../window/reports-input';
import { EVENT_TYPES } from '../event-types';

const AFTER_RULE = 'must be an event id (decimal digits)';
const TYPES_RULE = `values must be among ${EVENT_TYPES.join(', ')}`;

/** Query of `GET /reports/events` (reports.md 6.7, paging 1.6). */
@ReportsInput()
export class EventsFeedQuery {
  @ApiPropertyOptional({ description: 'Events with an id greater than this (default 0): the previous page\'s `next_after`.', example: '1771' })
  @IsOptional()
  @Matches(/^\d{1,18}$/, { message: AFTER_RULE })
  @IsString({ message: AFTER_RULE })
  after?: string;

  @ApiPropertyOptional({ type: [String], description: `Only these types (${EVENT_TYPES.join(', ')}); repeatable or comma-separated.` })
  @IsOptional()
  @ListParam()
  @IsIn(EVENT_TYPES, { each: true, message: TYPES_RULE })
  type?: string[];

  @ApiPropertyOptional({ type: [String], description: 'Only events of these projects (never project-less ones); repeatable or comma-separated. A user token: its own projects only.' })
  @IsOptional()
  @ListParam()
  @ArrayMaxSize(1000, { message: 'at most 1000 values' })
  @MaxLength(255, { each: true, message: 'values are at most 255 characters' })
  project_id?: string[];

  @LimitParam()
  limit?: number;
}

const URL_RULE = 'must be an http or https URL';

/** An absolute http or https URL that Node's WHATWG parser accepts. */
function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string' || value.length > 2048) return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/** Body of `POST /admin/reports/webhooks` (reports.md 6.7). */
@ReportsInput()
export class CreateWebhookDto {
  @ApiProperty({ description: 'Where events are POSTed: an http or https URL (at most 2048 characters).', example: 'https://billing.example.org/ledger-events' })
  @ValidateBy({ name: 'isHttpUrl', validator: { validate: isHttpUrl } }, { message: URL_RULE })
  url: string;

  @ApiPropertyOptional({ type: [String], enum: EVENT_TYPES, minItems: 1, description: 'Only these event types; absent: every type.' })
  @IsOptional()
  @IsIn(EVENT_TYPES, { each: true, message: TYPES_RULE })
  @ArrayMinSize(1, { message: 'must name at least one type (leave it out for all)' })
  @IsArray({ message: 'must be a list of event types' })
  types?: string[];

  @ApiPropertyOptional({ type: [String], minItems: 1, maxItems: 1000, description: 'Only events of these projects, never project-less ones; absent: every event.' })
  @IsOptional()
  @Length(1, 255, { each: true, message: 'each project id must be 1 to 255 characters' })
  @IsString({ each: true, message: 'must be a list of project ids' })
  @ArrayMaxSize(1000, { message: 'must name at most 1000 projects' })
  @ArrayMinSize(1, { message: 'must name at least one project (leave it out for all)' })
  @IsArray({ message: 'must be a list of project ids' })
  project_ids?: string[];

  @ApiPropertyOptional({ maxLength: 1000, description: 'Free text for operators.' })
  @IsOptional()
  @MaxLength(1000, { message: 'must be a string of at most 1000 characters' })
  @IsString({ message: 'must be a string of at most 1000 characters' })
  description?: string;
}

/** Path of `/admin/reports/webhooks/{id}`; an id that names no webhook is a 404, whatever its form. */
@ReportsInput()
export class WebhookIdParams {
  @ApiProperty({ description: 'The webhook id (`wh_…`).', example: 'wh_01JD0Q7W5N3XKZ4E2M8R6T9Y1B' })
  @IsString({ message: 'must be a string' })
  id: string;
}
